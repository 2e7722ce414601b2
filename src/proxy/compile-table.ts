/**
 * RoutingTable → CompiledTable, incrementally against the table serving now.
 *
 * A reload usually changes a few routes of many. IR objects are immutable and the translator
 * hands back the same object for what did not change, so identity tells what to keep:
 * - a backend whose IR object is the same keeps its compiled form (and its pools);
 * - a route whose IR object is the same, in the same virtual host, keeps its compiled form if
 *   the backends it resolved are still the same objects and it has no plugin filter (plugins
 *   register shared state at compile time, so those are compiled every time);
 * - a virtual host's lookup index is patched with the changed routes (route-index.ts), sharing
 *   the rest with the previous one. Its map from IR route to compiled route is the one thing
 *   not copied: it passes from table to table and always describes the newest.
 * Ranks keep gaps so an inserted route fits between its neighbours; when it does not, or when
 * most of a virtual host changed, that virtual host is compiled from scratch. Either way the
 * result matches exactly what a compile from scratch would do.
 */
import type { Backend, Route, RoutingTable, VirtualHost } from '../ir/index.ts';
import type { PluginRuntime } from '../plugins/index.ts';
import type { ProxyLogger } from './logger.ts';
import { buildRouteIndex, updateRouteIndex } from './route-index.ts';
import {
  compileBackend, compileRoute, CompiledListener, CompiledVirtualHost, listenerKey,
  type CompiledBackend, type CompiledRoute, type CompiledTable,
} from './router.ts';
import { CompiledStreams } from './stream-router.ts';
import type { UpstreamPools } from './upstream.ts';

/** Distance between the ranks of neighbouring routes in a fresh compile. */
export const RANK_GAP = 1024;

interface Context {
  readonly resolve: (id: string) => CompiledBackend | undefined;
  /** Every backend id resolves to the same object as in the previous table. */
  readonly backendsUnchanged: boolean;
  readonly logger: ProxyLogger;
  readonly plugins: PluginRuntime | undefined;
  /** Updates of structures shared with the previous table, run once the compile succeeded. */
  readonly commits: (() => void)[];
}

/**
 * Compile a table, reusing what `previous` (the table serving now) compiled for unchanged IR
 * objects. Never throws for bad data: a route whose regex fails to compile never matches.
 */
export function compileTable(
  table: RoutingTable, pools: UpstreamPools, logger: ProxyLogger, plugins?: PluginRuntime, previous?: CompiledTable,
): CompiledTable {
  const poolKeys = new Set<string>();
  const backends = new Map<string, CompiledBackend>();
  const backendsBySource = new Map<Backend, CompiledBackend>();
  const sourceBackends = new Map<string, Backend>();
  const httpBackends = table.backends.filter((b) => b.protocol !== 'tcp' && b.protocol !== 'udp');
  let backendsUnchanged = previous !== undefined && previous.backends.size === httpBackends.length;
  for (const b of table.backends) sourceBackends.set(b.id, b);
  // Stream backends are dialled per connection: no HTTP pool.
  for (const b of httpBackends) {
    const cb = reuseBackend(previous?.backendsBySource.get(b), b, pools, poolKeys) ?? compileBackend(b, pools, poolKeys);
    backends.set(b.id, cb);
    backendsBySource.set(b, cb);
    if (backendsUnchanged && previous!.backends.get(b.id) !== cb) backendsUnchanged = false;
  }
  const ctx: Context = { resolve: (id) => backends.get(id), backendsUnchanged, logger, plugins, commits: [] };
  const listeners = new Map<string, CompiledListener>();
  const virtualHosts = new Map<string, CompiledVirtualHost>();
  for (const l of table.listeners) {
    const lkey = listenerKey(l);
    const vhosts = l.virtualHosts.map((vh) => {
      const key = `${lkey}|${vh.id}`;
      const cvh = compileVirtualHost(vh, previous?.virtualHosts.get(key), ctx);
      virtualHosts.set(key, cvh);
      return cvh;
    });
    const cl = new CompiledListener(l, vhosts);
    if (l.streamRoutes !== undefined) cl.streams = new CompiledStreams(l.streamRoutes, sourceBackends);
    listeners.set(lkey, cl);
  }
  for (const commit of ctx.commits) commit();
  return { version: table.version, source: table, listeners, backends, poolKeys, backendsBySource, virtualHosts };
}

/** The previous compiled form of the same IR backend, if its pools are still the live ones. */
function reuseBackend(prev: CompiledBackend | undefined, b: Backend, pools: UpstreamPools, poolKeys: Set<string>): CompiledBackend | undefined {
  if (prev === undefined) return undefined;
  // The previous table retained these pools, so acquire returns the same ones; check anyway.
  for (const ep of prev.endpoints.items) if (pools.acquire(b.protocol, ep, b.tls) !== ep.pool) return undefined;
  for (const ep of prev.endpoints.items) poolKeys.add(ep.key);
  return prev;
}

function fresh(vh: VirtualHost, ctx: Context): CompiledVirtualHost {
  const routes: CompiledRoute[] = [];
  const compiledAt: (CompiledRoute | undefined)[] = new Array(vh.routes.length);
  const byRoute = new Map<VirtualHost['routes'][number], CompiledRoute>();
  vh.routes.forEach((r, i) => {
    const c = compileRoute(r, (i + 1) * RANK_GAP, ctx.resolve, ctx.logger, ctx.plugins);
    compiledAt[i] = c;
    if (c === undefined) return;
    routes.push(c);
    byRoute.set(r, c);
  });
  return new CompiledVirtualHost(vh, routes, compiledAt, buildRouteIndex(routes), byRoute);
}

function stillValid(c: CompiledRoute, ctx: Context): boolean {
  if (!c.reusable) return false;
  if (ctx.backendsUnchanged) return true;
  // The route resolves the same ids in the same order every time: compare the objects.
  for (let k = 0; k < c.resolved.length; k++) if (ctx.resolve(c.resolvedIds[k]!) !== c.resolved[k]) return false;
  return true;
}

function compileVirtualHost(vh: VirtualHost, prev: CompiledVirtualHost | undefined, ctx: Context): CompiledVirtualHost {
  if (prev === undefined) return fresh(vh, ctx);
  const n = vh.routes.length;
  // Kept compiled routes by position; undefined where the route must be compiled.
  const kept: (CompiledRoute | undefined)[] = new Array(n);
  let keptCount = 0;
  let lastRank = 0;
  // The previous IR list walked alongside: a route at the expected place needs no lookup.
  const before = prev.source.routes;
  let j = 0;
  for (let i = 0; i < n; i++) {
    const r = vh.routes[i]!;
    let c: CompiledRoute | undefined;
    if (j < before.length && before[j] === r) {
      c = prev.compiledAt[j++];
    } else {
      c = prev.byRoute.get(r);
      if (c !== undefined) {
        // Routes of the previous list before this one were removed (or moved: caught below).
        while (j < before.length && before[j] !== r) j++;
        if (j < before.length) j++;
      }
    }
    if (c !== undefined && stillValid(c, ctx)) {
      // Kept routes keep their relative order (precedence is a total order on their contents);
      // a table that reorders them anyway is compiled from scratch.
      if (c.rank <= lastRank) return fresh(vh, ctx);
      lastRank = c.rank;
      kept[i] = c;
      keptCount++;
    }
  }
  if (keptCount === prev.routes.length && keptCount === n && vh.hostname === prev.hostname && vh.listenerId === prev.listenerId) {
    // Nothing changed (the IR virtual host may be a new object with the same routes).
    return new CompiledVirtualHost(vh, prev.routes, kept, prev.index, prev.byRoute);
  }
  // Mostly new: a fresh compile costs less than patching.
  if (keptCount * 2 < n) return fresh(vh, ctx);

  // Ranks for the routes to compile: between their kept neighbours.
  const ranks = new Float64Array(n);
  let nextKept = Number.POSITIVE_INFINITY;
  const nextRank = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    nextRank[i] = nextKept;
    const c = kept[i];
    if (c !== undefined) nextKept = c.rank;
  }
  let last = 0;
  for (let i = 0; i < n; i++) {
    const c = kept[i];
    if (c !== undefined) {
      last = ranks[i] = c.rank;
      continue;
    }
    const hi = nextRank[i]!;
    const rank = hi === Number.POSITIVE_INFINITY ? last + RANK_GAP : last + (hi - last) / 2;
    // No room left between the neighbours (after many inserts at one spot): renumber.
    if (!(rank > last && rank < hi)) return fresh(vh, ctx);
    last = ranks[i] = rank;
  }

  const routes: CompiledRoute[] = [];
  const added: CompiledRoute[] = [];
  const keptInOrder: CompiledRoute[] = [];
  const compiledAt: (CompiledRoute | undefined)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    let c = kept[i];
    if (c === undefined) {
      c = compileRoute(vh.routes[i]!, ranks[i]!, ctx.resolve, ctx.logger, ctx.plugins);
      if (c === undefined) continue;
      compiledAt[i] = c;
      added.push(c);
    } else {
      compiledAt[i] = c;
      keptInOrder.push(c);
    }
    routes.push(c);
  }
  // The kept routes are a subsequence of the previous ones (both by rank): one walk finds the rest.
  const removed: CompiledRoute[] = [];
  let k = 0;
  for (const c of prev.routes) {
    if (keptInOrder[k] === c) {
      k++;
      continue;
    }
    removed.push(c);
  }
  // byRoute is handed on from table to table and updated in place (copying 10,000 entries per
  // reload would cost more than the rest), once the whole table has compiled.
  const byRoute = prev.byRoute as Map<Route, CompiledRoute>;
  ctx.commits.push(() => {
    for (const c of removed) if (byRoute.get(c.source) === c) byRoute.delete(c.source);
    for (const c of added) byRoute.set(c.source, c);
  });
  return new CompiledVirtualHost(vh, routes, compiledAt, updateRouteIndex(prev.index, removed, added), byRoute);
}
