// Builds the RoutingTable: one IR Listener per socket (address, port), virtual hosts per
// hostname with Gateway API listener isolation, routes in precedence order, and the backends
// those routes use.
import type { Backend, GatewayListener, Listener, ListenerProtocol, Route, RoutingTable, VirtualHost } from '../ir/index.ts';
import { buildBackend, type BackendSource } from './backends.ts';
import { canonicalJson, sha256Hex } from './canonical-json.ts';
import type { Graph } from './graph.ts';
import type { CacheState } from './cache.ts';
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

function addToSocket(sockets: Map<string, SocketDraft>, address: string, l: ListenerInfo): void {
  const id = socketId(address, l.port);
  let s = sockets.get(id);
  if (!s) {
    s = { address, port: l.port, protocol: l.protocol as ListenerProtocol, listeners: [], vhosts: new Map() };
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

function place(s: SocketDraft, p: Placement): void {
  for (const h of p.hostnames) {
    // Gateway API listener isolation: a request is served only by the most specific
    // listener matching its host, so a hostname that a more specific listener on this
    // socket covers is not served by a less specific one.
    if (s.listeners.length > 1 && s.listeners.some((o) => o !== p.listener && moreSpecific(o.hostname, p.listener.hostname) && covers(o.hostname, h))) continue;
    let v = s.vhosts.get(h);
    if (!v) {
      v = { owner: p.listener, routes: new Map() };
      s.vhosts.set(h, v);
    } else if (v.owner !== p.listener) {
      v.owner = moreSpecificListener(v.owner, p.listener);
    }
    for (const r of p.routes) v.routes.set(r.route.id, r);
  }
}

export function buildTable(
  graph: Graph, listeners: readonly ListenerInfo[], placements: readonly Placement[], sources: ReadonlyMap<string, BackendSource>,
  cache?: CacheState,
): RoutingTable {
  const sockets = new Map<string, SocketDraft>();
  for (const l of listeners) {
    if (!serves(l)) continue;
    for (const address of l.gateway.addresses) addToSocket(sockets, address, l);
  }

  const grpcBackends = new Set<string>();
  const usedBackends = new Set<string>();
  for (const p of placements) {
    if (!serves(p.listener)) continue;
    for (const address of p.listener.gateway.addresses) {
      const s = sockets.get(socketId(address, p.listener.port));
      if (s) place(s, p);
    }
  }

  const tableListeners: Listener[] = [];
  const nextOrder = new Map<string, readonly unknown[]>();
  for (const [id, s] of sockets) {
    const gatewayListeners: GatewayListener[] = s.listeners
      .map((l) => ({ id: l.id, hostname: l.hostname, certificates: l.certificates }))
      .sort((a, b) => compareStrings(a.id, b.id));
    const virtualHosts: VirtualHost[] = [...s.vhosts.entries()]
      .sort(([a], [b]) => compareHostnameSpecificity(a, b))
      .map(([hostname, v]) => {
        const routes = orderRoutes(`${id}|${hostname}`, v.routes, cache, nextOrder);
        for (const r of routes) {
          for (const i of backendIdsOf(r.route)) {
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
    return src ? [memoBackend(graph, src, grpcBackends.has(id), cache)] : [];
  });
  if (cache !== undefined) cache.vhostOrder = nextOrder;
  const body = { listeners: tableListeners, backends };
  return { version: tableVersion(body, cache), ...body };
}

/** buildBackend, memoised in the cache (reset whenever the context changes). */
function memoBackend(graph: Graph, src: BackendSource, forceH2c: boolean, cache: CacheState | undefined): Backend {
  if (cache === undefined) return buildBackend(graph, src, forceH2c);
  // Keyed by the Service port object: every route resolving this backend has its own
  // BackendSource, but they all point at the same port of the same (unchanged) Service.
  let m = cache.backends.get(src.servicePort);
  if (m === undefined) cache.backends.set(src.servicePort, (m = {}));
  const hit = (forceH2c ? m.forced : m.plain) as Backend | undefined;
  if (hit !== undefined) return hit;
  const b = buildBackend(graph, src, forceH2c);
  if (forceH2c) m.forced = b;
  else m.plain = b;
  return b;
}

const backendIdsMemo = new WeakMap<Route, readonly string[]>();

/** Backends a route sends traffic or mirrors to (memoised: IR routes are immutable). */
function backendIdsOf(route: Route): readonly string[] {
  let ids = backendIdsMemo.get(route);
  if (ids !== undefined) return ids;
  const out: string[] = [];
  for (const f of route.filters) if (f.type === 'RequestMirror') out.push(f.mirror.backendId);
  for (const b of route.backendRefs) {
    if (b.kind !== 'backend') continue;
    out.push(b.backendId);
    for (const f of b.filters) if (f.type === 'RequestMirror') out.push(f.mirror.backendId);
  }
  ids = out;
  backendIdsMemo.set(route, ids);
  return ids;
}

/**
 * Routes of one virtual host in precedence order. With a cache, the previous order is kept for
 * the routes still there and only new routes are sorted and merged in: O(n + k log k) instead
 * of O(n log n) when k of n routes changed. Same result either way (compareRoutes is total).
 */
function orderRoutes(key: string, routes: ReadonlyMap<string, PlacedRoute>, cache: CacheState | undefined, next: Map<string, readonly unknown[]>): PlacedRoute[] {
  const current = new Set(routes.values());
  const previous = cache?.vhostOrder.get(key) as readonly PlacedRoute[] | undefined;
  let ordered: PlacedRoute[];
  if (previous === undefined) {
    ordered = [...current].sort(compareRoutes);
  } else {
    const kept = previous.filter((r) => current.has(r));
    const keptSet = new Set(kept);
    const added = [...current].filter((r) => !keptSet.has(r)).sort(compareRoutes);
    ordered = added.length === 0 ? kept : mergeSorted(kept, added);
  }
  next.set(key, ordered);
  return ordered;
}

function mergeSorted(a: readonly PlacedRoute[], b: readonly PlacedRoute[]): PlacedRoute[] {
  const out: PlacedRoute[] = new Array(a.length + b.length);
  let i = 0, j = 0, k = 0;
  while (i < a.length && j < b.length) out[k++] = compareRoutes(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/**
 * Content hash of the table. Routes enter it through their own hash, memoised per IR route
 * object, so hashing a table of 10,000 routes where one changed hashes one route's JSON; the
 * route hashes of a virtual host are joined into one string, so the canonical JSON of the rest
 * stays small.
 */
function tableVersion(body: Omit<RoutingTable, 'version'>, cache: CacheState | undefined): string {
  const routeHash = (r: Route): string => {
    let h = cache?.routeHashes.get(r);
    if (h === undefined) {
      h = sha256Hex(canonicalJson(r));
      cache?.routeHashes.set(r, h);
    }
    return h;
  };
  const skeleton = {
    ...body,
    listeners: body.listeners.map((l) => ({ ...l, virtualHosts: l.virtualHosts.map((v) => ({ ...v, routes: v.routes.map(routeHash).join(',') })) })),
  };
  return sha256Hex(canonicalJson(skeleton));
}
