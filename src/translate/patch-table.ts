// Patches the previous RoutingTable with the placements of the routes that changed, when every
// object other than routes is the same (the translate cache's context): a reload of 10,000
// routes with one changed touches one virtual host's list and hashes, not 10,000 routes.
//
// The result must equal what buildTable() makes from all placements; where a change could make
// it differ in ways this does not model (a virtual host that would appear or disappear, or
// change owner), it declines and the caller builds the table from scratch.
import type { Listener, RoutingTable, VirtualHost } from '../ir/index.ts';
import type { BackendSource } from './backends.ts';
import {
  assembleTable, backendsInUse, isolated, mergeSorted, moreSpecificListener, noteVhostHash, routeHash, useBackends, vhostKey,
  type BackendUse, type Placement, type TableState, type VhostState,
} from './build-table.ts';
import type { CacheState } from './cache.ts';
import type { Graph } from './graph.ts';
import { serves, socketId, type ListenerInfo } from './listeners.ts';
import { compareRoutes, type PlacedRoute } from './precedence.ts';

interface Change {
  readonly vhost: VhostState;
  readonly removed: Set<PlacedRoute>;
  /** By route id: the last placement of an id wins, as in buildTable. */
  readonly added: Map<string, PlacedRoute>;
  readonly contributors: Map<ListenerInfo, number>;
}

/** The patched table (also stored as the cache's new state), or undefined to build from scratch. */
export function patchTable(
  graph: Graph, state: TableState, removed: readonly Placement[], added: readonly Placement[],
  sources: ReadonlyMap<string, BackendSource>, cache: CacheState,
): RoutingTable | undefined {
  const changes = new Map<string, Change>();
  const visit = (p: Placement, delta: 1 | -1): boolean => {
    if (!serves(p.listener)) return true;
    for (const address of p.listener.gateway.addresses) {
      const socket = socketId(address, p.listener.port, p.listener.protocol);
      const listeners = state.sockets.get(socket);
      if (listeners === undefined) continue;
      for (const h of p.hostnames) {
        if (isolated(listeners, p.listener, h)) continue;
        const key = vhostKey(socket, h);
        const vhost = state.vhosts.get(key);
        // A virtual host that does not exist yet: buildTable decides its place and owner.
        if (vhost === undefined) return false;
        let c = changes.get(key);
        if (c === undefined) changes.set(key, (c = { vhost, removed: new Set(), added: new Map(), contributors: new Map(vhost.contributors) }));
        c.contributors.set(p.listener, (c.contributors.get(p.listener) ?? 0) + delta);
        for (const r of p.routes) {
          // Which backend gets which health check depends on every route: buildTable decides.
          if (r.healthCheck !== undefined) return false;
          if (delta < 0) c.removed.add(r);
          else c.added.set(r.route.id, r);
        }
      }
    }
    return true;
  };
  for (const p of removed) if (!visit(p, -1)) return undefined;
  for (const p of added) if (!visit(p, 1)) return undefined;

  const use = new Map(state.backendUse);
  const vhosts = new Map(state.vhosts);
  const listeners: Listener[] = [...state.table.listeners];
  const copied = new Set<number>();
  for (const [key, c] of changes) {
    const v = c.vhost;
    if (!v.fixed) {
      // A virtual host made by placements exists while some placement lands there, and its
      // owner is the most specific listener among them: both must stay as they are.
      let owner: ListenerInfo | undefined;
      for (const [l, n] of c.contributors) if (n > 0) owner = owner === undefined ? l : moreSpecificListener(owner, l);
      if (owner !== v.owner) return undefined;
    }
    // The routes that stay (with their hashes), then the new ones merged in by precedence.
    const keptRoutes: PlacedRoute[] = [];
    const keptHashes: string[] = [];
    for (let i = 0; i < v.ordered.length; i++) {
      const r = v.ordered[i]!;
      if (c.removed.size > 0 && c.removed.has(r)) {
        useBackends(use, r, -1);
        continue;
      }
      keptRoutes.push(r);
      keptHashes.push(v.hashes[i]!);
    }
    const adds = [...c.added.values()].sort(compareRoutes);
    for (const r of adds) useBackends(use, r, 1);
    const ordered = adds.length === 0 ? keptRoutes : mergeSorted(keptRoutes, adds);
    // The kept routes keep their hashes, in order; only the added ones are hashed.
    const addedHashes = new Map(adds.map((r) => [r, routeHash(r.route, cache)]));
    let k = 0;
    const hashes = adds.length === 0 ? keptHashes : ordered.map((r) => (r === keptRoutes[k] ? keptHashes[k++]! : addedHashes.get(r)!));
    const contributors = new Map([...c.contributors].filter(([, n]) => n > 0));
    vhosts.set(key, { ...v, contributors, ordered, hashes });
    if (!copied.has(v.listenerPos)) {
      const l = listeners[v.listenerPos]!;
      listeners[v.listenerPos] = { ...l, virtualHosts: [...l.virtualHosts] };
      copied.add(v.listenerPos);
    }
    const hosts = listeners[v.listenerPos]!.virtualHosts as VirtualHost[];
    const vhost: VirtualHost = { ...hosts[v.vhostPos]!, routes: ordered.map((r) => r.route) };
    noteVhostHash(vhost, hashes, cache);
    hosts[v.vhostPos] = vhost;
  }
  const backends = sameUse(use, state.backendUse) ? state.table.backends : backendsInUse(graph, use, state.healthChecks, sources, cache);
  const table = assembleTable(graph, listeners, use, state.healthChecks, sources, cache, backends);
  cache.table = { table, sockets: state.sockets, vhosts, backendUse: use, healthChecks: state.healthChecks };
  return table;
}

/** Same backends in use, with the same gRPC flags (so the same Backend objects). */
function sameUse(a: ReadonlyMap<string, BackendUse>, b: ReadonlyMap<string, BackendUse>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, u] of a) {
    const v = b.get(id);
    if (v === undefined || (u.grpc > 0) !== (v.grpc > 0)) return false;
  }
  return true;
}
