// Builds the RoutingTable: one IR Listener per socket (address, port), virtual hosts per
// hostname with Gateway API listener isolation, routes in precedence order, and the backends
// those routes use.
import type { Backend, GatewayListener, Listener, ListenerProtocol, RoutingTable, VirtualHost } from '../ir/index.ts';
import { buildBackend, type BackendSource } from './backends.ts';
import { canonicalJson, sha256Hex } from './canonical-json.ts';
import type { Graph } from './graph.ts';
import { compareHostnameSpecificity, covers, moreSpecific } from './hostnames.ts';
import { serves, socketId, type ListenerInfo } from './listeners.ts';
import { compareRoutes, type PlacedRoute } from './precedence.ts';
import { compareStrings } from './safe.ts';

/** One attached route's routes, to be placed on a listener under some hostnames. */
export interface Placement {
  readonly listener: ListenerInfo;
  readonly hostnames: readonly string[];
  readonly routes: readonly PlacedRoute[];
}

interface VhostDraft { owner: ListenerInfo; readonly routes: Map<string, PlacedRoute> }
interface SocketDraft {
  readonly address: string;
  readonly port: number;
  readonly protocol: ListenerProtocol;
  readonly listeners: ListenerInfo[];
  readonly vhosts: Map<string, VhostDraft>;
}

function moreSpecificListener(a: ListenerInfo, b: ListenerInfo): ListenerInfo {
  return (compareHostnameSpecificity(a.hostname, b.hostname) || compareStrings(a.id, b.id)) <= 0 ? a : b;
}

export function buildTable(
  graph: Graph, listeners: readonly ListenerInfo[], placements: readonly Placement[], sources: ReadonlyMap<string, BackendSource>,
): RoutingTable {
  const sockets = new Map<string, SocketDraft>();
  for (const l of listeners) {
    if (!serves(l)) continue;
    const id = socketId(l.gateway.address, l.port);
    let s = sockets.get(id);
    if (!s) {
      s = { address: l.gateway.address, port: l.port, protocol: l.protocol as ListenerProtocol, listeners: [], vhosts: new Map() };
      sockets.set(id, s);
    }
    s.listeners.push(l);
    // Every listener hostname gets a virtual host, even without routes, so a request for it
    // never falls through to a less specific listener's routes (Gateway API: listener
    // isolation; such a request gets 404).
    const existing = s.vhosts.get(l.hostname);
    if (existing) existing.owner = moreSpecificListener(existing.owner, l);
    else s.vhosts.set(l.hostname, { owner: l, routes: new Map() });
  }

  const grpcBackends = new Set<string>();
  const usedBackends = new Set<string>();
  for (const p of placements) {
    if (!serves(p.listener)) continue;
    const s = sockets.get(socketId(p.listener.gateway.address, p.listener.port));
    if (!s) continue;
    for (const h of p.hostnames) {
      // Gateway API listener isolation: a request is served only by the most specific
      // listener matching its host, so a hostname that a more specific listener on this
      // socket covers is not served by a less specific one.
      if (s.listeners.some((o) => o !== p.listener && moreSpecific(o.hostname, p.listener.hostname) && covers(o.hostname, h))) continue;
      let v = s.vhosts.get(h);
      if (!v) {
        v = { owner: p.listener, routes: new Map() };
        s.vhosts.set(h, v);
      } else {
        v.owner = moreSpecificListener(v.owner, p.listener);
      }
      for (const r of p.routes) v.routes.set(r.route.id, r);
    }
  }

  const tableListeners: Listener[] = [];
  for (const [id, s] of sockets) {
    const gatewayListeners: GatewayListener[] = s.listeners
      .map((l) => ({ id: l.id, hostname: l.hostname, certificates: l.certificates }))
      .sort((a, b) => compareStrings(a.id, b.id));
    const virtualHosts: VirtualHost[] = [...s.vhosts.entries()]
      .sort(([a], [b]) => compareHostnameSpecificity(a, b))
      .map(([hostname, v]) => {
        const routes = [...v.routes.values()].sort(compareRoutes);
        for (const r of routes) {
          const ids: string[] = [];
          for (const f of r.route.filters) if (f.type === 'RequestMirror') ids.push(f.mirror.backendId);
          for (const b of r.route.backendRefs) {
            if (b.kind !== 'backend') continue;
            ids.push(b.backendId);
            for (const f of b.filters) if (f.type === 'RequestMirror') ids.push(f.mirror.backendId);
          }
          for (const i of ids) {
            usedBackends.add(i);
            if (r.origin.kind === 'GRPCRoute') grpcBackends.add(i);
          }
        }
        return { id: `vhost/${v.owner.id}/${hostname}`, hostname, listenerId: v.owner.id, routes: routes.map((r) => r.route) };
      });
    tableListeners.push({ id, address: s.address, port: s.port, protocol: s.protocol, gatewayListeners, virtualHosts });
  }
  tableListeners.sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port);

  const backends: Backend[] = [...usedBackends].sort(compareStrings).flatMap((id) => {
    const src = sources.get(id);
    return src ? [buildBackend(graph, src, grpcBackends.has(id))] : [];
  });
  const body = { listeners: tableListeners, backends };
  return { version: sha256Hex(canonicalJson(body)), ...body };
}
