// Builds the RoutingTable: one IR Listener per socket (address, port), virtual hosts per
// hostname with Gateway API listener isolation, routes in precedence order, and the backends
// those routes use.
import type { Backend, GatewayListener, HealthCheck, Listener, ListenerProtocol, Route, RoutingTable, VirtualHost } from '../ir/index.ts';
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

interface VhostDraft {
  owner: ListenerInfo;
  /** Created for a listener with exactly this hostname: no placement can change its owner. */
  readonly fixed: boolean;
  readonly routes: Map<string, PlacedRoute>;
  /** Placements per listener that landed here (patch-table.ts needs them to keep the owner right). */
  readonly contributors: Map<ListenerInfo, number>;
}
interface SocketDraft {
  readonly address: string;
  readonly port: number;
  readonly protocol: ListenerProtocol;
  readonly listeners: ListenerInfo[];
  readonly vhosts: Map<string, VhostDraft>;
}

export function moreSpecificListener(a: ListenerInfo, b: ListenerInfo): ListenerInfo {
  return (compareHostnameSpecificity(a.hostname, b.hostname) || compareStrings(a.id, b.id)) <= 0 ? a : b;
}

function addToSocket(sockets: Map<string, SocketDraft>, address: string, l: ListenerInfo): void {
  const id = socketId(address, l.port, l.protocol);
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
  else s.vhosts.set(l.hostname, { owner: l, fixed: true, routes: new Map(), contributors: new Map() });
}

/**
 * Gateway API listener isolation: a request is served only by the most specific listener
 * matching its host, so a hostname that a more specific listener on this socket covers is not
 * served by a less specific one.
 */
export function isolated(socketListeners: readonly ListenerInfo[], l: ListenerInfo, hostname: string): boolean {
  return socketListeners.length > 1 && socketListeners.some((o) => o !== l && moreSpecific(o.hostname, l.hostname) && covers(o.hostname, hostname));
}

function place(s: SocketDraft, p: Placement): void {
  for (const h of p.hostnames) {
    if (isolated(s.listeners, p.listener, h)) continue;
    let v = s.vhosts.get(h);
    if (!v) {
      v = { owner: p.listener, fixed: false, routes: new Map(), contributors: new Map() };
      s.vhosts.set(h, v);
    } else if (v.owner !== p.listener) {
      v.owner = moreSpecificListener(v.owner, p.listener);
    }
    v.contributors.set(p.listener, (v.contributors.get(p.listener) ?? 0) + 1);
    for (const r of p.routes) v.routes.set(r.route.id, r);
  }
}

/** One virtual host of a built table, as patch-table.ts needs it. */
export interface VhostState {
  readonly socket: string;
  /** Position of its Listener in table.listeners and of it in that Listener's virtualHosts. */
  readonly listenerPos: number;
  readonly vhostPos: number;
  readonly owner: ListenerInfo;
  readonly fixed: boolean;
  readonly contributors: ReadonlyMap<ListenerInfo, number>;
  /** Its routes in precedence order, and their content hashes (shortened) in the same order. */
  readonly ordered: readonly PlacedRoute[];
  readonly hashes: readonly string[];
}

/** How many placed routes of the table use a backend, and how many of them are gRPC. */
export interface BackendUse { readonly count: number; readonly grpc: number }

/** A built table and what the next translation needs to patch it instead of building it again. */
export interface TableState {
  readonly table: RoutingTable;
  /** Serving listeners of each socket (for listener isolation). */
  readonly sockets: ReadonlyMap<string, readonly ListenerInfo[]>;
  /** By `<socket id>|<hostname>`. */
  readonly vhosts: ReadonlyMap<string, VhostState>;
  readonly backendUse: ReadonlyMap<string, BackendUse>;
  /** The health check each backend gets (patch-table.ts leaves changes of these to buildTable). */
  readonly healthChecks: ReadonlyMap<string, HealthCheckRef>;
}

/** A route's health check attachment (policy-routes.ts). */
export interface HealthCheckRef { readonly id: string; readonly config: unknown }

export function vhostKey(socket: string, hostname: string): string {
  return `${socket}|${hostname}`;
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

  for (const p of placements) {
    if (!serves(p.listener)) continue;
    for (const address of p.listener.gateway.addresses) {
      const s = sockets.get(socketId(address, p.listener.port, p.listener.protocol));
      if (s) place(s, p);
    }
  }

  const previous = cache?.table;
  const backendUse = new Map<string, BackendUse>();
  const healthChecks = new Map<string, HealthCheckRef>();
  const tableListeners: Listener[] = [];
  const drafts: { listener: Listener; vhosts: Omit<VhostState, 'listenerPos'>[] }[] = [];
  for (const [id, s] of sockets) {
    const gatewayListeners: GatewayListener[] = s.listeners
      .map((l) => ({ id: l.id, hostname: l.hostname, certificates: l.certificates, ...(l.clientValidation ? { clientValidation: l.clientValidation } : {}) }))
      .sort((a, b) => compareStrings(a.id, b.id));
    const states: Omit<VhostState, 'listenerPos'>[] = [];
    const virtualHosts: VirtualHost[] = [...s.vhosts.entries()]
      .sort(([a], [b]) => compareHostnameSpecificity(a, b))
      .map(([hostname, v], vhostPos) => {
        const routes = orderRoutes(v.routes, previous?.vhosts.get(vhostKey(id, hostname))?.ordered);
        for (const r of routes) {
          useBackends(backendUse, r, 1);
          if (r.healthCheck !== undefined) noteHealthCheck(healthChecks, r.route, r.healthCheck);
        }
        const vhost: VirtualHost = { id: `vhost/${v.owner.id}/${hostname}`, hostname, listenerId: v.owner.id, routes: routes.map((r) => r.route) };
        const hashes = routes.map((r) => routeHash(r.route, cache));
        noteVhostHash(vhost, hashes, cache);
        states.push({ socket: id, vhostPos, owner: v.owner, fixed: v.fixed, contributors: v.contributors, ordered: routes, hashes });
        return vhost;
      });
    const listener: Listener = { id, address: s.address, port: s.port, protocol: s.protocol, gatewayListeners, virtualHosts };
    tableListeners.push(listener);
    drafts.push({ listener, vhosts: states });
  }
  tableListeners.sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port);

  const table = assembleTable(graph, tableListeners, backendUse, healthChecks, sources, cache);
  if (cache !== undefined) {
    const position = new Map(tableListeners.map((l, i) => [l, i]));
    const vhosts = new Map<string, VhostState>();
    for (const d of drafts) {
      const listenerPos = position.get(d.listener)!;
      for (const v of d.vhosts) vhosts.set(vhostKey(v.socket, d.listener.virtualHosts[v.vhostPos]!.hostname), { ...v, listenerPos });
    }
    cache.table = { table, sockets: new Map([...sockets].map(([id, s]) => [id, s.listeners])), vhosts, backendUse, healthChecks };
  }
  return table;
}

/** Counts (delta +1 or -1) a placed route's backends. */
export function useBackends(use: Map<string, BackendUse>, r: PlacedRoute, delta: 1 | -1): void {
  const grpc = r.origin.kind === 'GRPCRoute' ? delta : 0;
  for (const id of backendIdsOf(r.route)) {
    const u = use.get(id);
    const next = { count: (u?.count ?? 0) + delta, grpc: (u?.grpc ?? 0) + grpc };
    if (next.count === 0) use.delete(id);
    else use.set(id, next);
  }
}

/** The backends in use, sorted by id: gRPC ones forced to h2c, with their health checks. */
export function backendsInUse(
  graph: Graph, use: ReadonlyMap<string, BackendUse>, healthChecks: ReadonlyMap<string, HealthCheckRef>,
  sources: ReadonlyMap<string, BackendSource>, cache: CacheState | undefined,
): Backend[] {
  return [...use.keys()].sort(compareStrings).flatMap((id) => {
    const src = sources.get(id);
    return src ? [memoBackend(graph, src, use.get(id)!.grpc > 0, healthChecks.get(id), cache)] : [];
  });
}

/**
 * A backend is one set of endpoints, whichever route sends to it, so it gets one health check:
 * when policies on two routes of one backend disagree, the attachment id that sorts first wins
 * (deterministic; the README says to give a shared backend one policy).
 */
function noteHealthCheck(out: Map<string, HealthCheckRef>, route: Route, hc: HealthCheckRef): void {
  for (const b of route.backendRefs) {
    if (b.kind !== 'backend') continue;
    const prev = out.get(b.backendId);
    if (prev === undefined || compareStrings(hc.id, prev.id) < 0) out.set(b.backendId, hc);
  }
}

export function assembleTable(
  graph: Graph, listeners: readonly Listener[], use: ReadonlyMap<string, BackendUse>, healthChecks: ReadonlyMap<string, HealthCheckRef>,
  sources: ReadonlyMap<string, BackendSource>, cache: CacheState | undefined,
  backends: readonly Backend[] = backendsInUse(graph, use, healthChecks, sources, cache),
): RoutingTable {
  return { version: tableVersion(listeners, backends, cache), listeners, backends };
}

/**
 * buildBackend (with the health check, if any), memoised in the cache (reset whenever the
 * context changes): the same IR object for an unchanged backend lets the proxy keep what it
 * compiled for it and for the routes that use it.
 */
function memoBackend(graph: Graph, src: BackendSource, forceH2c: boolean, hc: HealthCheckRef | undefined, cache: CacheState | undefined): Backend {
  const make = (): Backend => {
    const b = buildBackend(graph, src, forceH2c);
    return hc === undefined ? b : { ...b, healthCheck: { id: hc.id, ...(hc.config as Omit<HealthCheck, 'id'>) } };
  };
  if (cache === undefined) return make();
  // Keyed by the Service port object: every route resolving this backend has its own
  // BackendSource, but they all point at the same port of the same (unchanged) Service.
  let m = cache.backends.get(src.servicePort);
  if (m === undefined) cache.backends.set(src.servicePort, (m = { plain: new Map(), forced: new Map() }));
  const byCheck = (forceH2c ? m.forced : m.plain) as Map<unknown, Backend>;
  let b = byCheck.get(hc);
  if (b === undefined) byCheck.set(hc, (b = make()));
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
 * Routes of one virtual host in precedence order. With the previous order of the same virtual
 * host, the routes still there keep it and only new routes are sorted and merged in:
 * O(n + k log k) instead of O(n log n) when k of n routes changed. Same result either way
 * (compareRoutes is total).
 */
function orderRoutes(routes: ReadonlyMap<string, PlacedRoute>, previous: readonly PlacedRoute[] | undefined): PlacedRoute[] {
  const current = new Set(routes.values());
  if (previous === undefined) return [...current].sort(compareRoutes);
  const kept = previous.filter((r) => current.has(r));
  const keptSet = new Set(kept);
  const added = [...current].filter((r) => !keptSet.has(r)).sort(compareRoutes);
  return added.length === 0 ? kept : mergeSorted(kept, added);
}

export function mergeSorted(a: readonly PlacedRoute[], b: readonly PlacedRoute[]): PlacedRoute[] {
  const out: PlacedRoute[] = new Array(a.length + b.length);
  let i = 0, j = 0, k = 0;
  while (i < a.length && j < b.length) out[k++] = compareRoutes(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/**
 * Content hash of the table, built bottom up: route, virtual host, listener and backend hashes
 * are memoised per IR object, so after a change only the objects on the changed path are
 * hashed again (a virtual host of 10,000 routes joins 10,000 memoised route hashes).
 */
function tableVersion(listeners: readonly Listener[], backends: readonly Backend[], cache: CacheState | undefined): string {
  return sha256Hex(canonicalJson({ listeners: listeners.map((l) => listenerHash(l, cache)), backends: backends.map((b) => memoHash(b, cache)) }));
}

function memoHash(o: object, cache: CacheState | undefined, content: () => string = () => canonicalJson(o), hash?: () => string): string {
  let h = cache?.hashes.get(o);
  if (h === undefined) {
    h = hash !== undefined ? hash() : sha256Hex(content());
    cache?.hashes.set(o, h);
  }
  return h;
}

function listenerHash(l: Listener, cache: CacheState | undefined): string {
  return memoHash(l, cache, () => canonicalJson({ ...l, virtualHosts: l.virtualHosts.map((v) => vhostHash(v, cache)) }));
}

/**
 * A route's content hash, shortened: a virtual host joins one per route (64 bits each are
 * plenty to tell tables apart, and hash a quarter of the bytes).
 */
export function routeHash(r: Route, cache: CacheState | undefined): string {
  return memoHash(r, cache).slice(0, 16);
}

function vhostHashOf(v: VirtualHost, routeHashes: readonly string[]): string {
  return sha256Hex(`${canonicalJson({ ...v, routes: undefined })}|${routeHashes.join(',')}`);
}

function vhostHash(v: VirtualHost, cache: CacheState | undefined): string {
  return memoHash(v, cache, undefined, () => vhostHashOf(v, v.routes.map((r) => routeHash(r, cache))));
}

/** Records the hash of a virtual host whose route hashes the caller already has, in order. */
export function noteVhostHash(v: VirtualHost, routeHashes: readonly string[], cache: CacheState | undefined): void {
  cache?.hashes.set(v, vhostHashOf(v, routeHashes));
}
