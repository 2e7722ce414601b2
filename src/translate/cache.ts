// The translator's optional memo. translate() stays a pure function of its arguments: the cache
// only lets it skip recomputing what it computed before for identical inputs. Objects are
// compared by identity, which is sound because Resources are immutable (front ends replace an
// object when it changes, never mutate it).
import type { Resources } from './resources.ts';
import type { ObjectStatus, TranslateOptions } from './types.ts';
import type { TableState } from './build-table.ts';

/** Opaque memo for translate(); create one per front end with createTranslateCache(). */
export interface TranslateCache {
  readonly __translateCache: true;
}

/** What a route contributed to the previous translation (types kept loose to avoid cycles). */
export interface RouteMemo {
  readonly kind: string;
  readonly routeKey: string;
  /** Listeners whose attachedRoutes count this route. */
  readonly countedOn: readonly unknown[];
  readonly sources: readonly unknown[];
  readonly placements: readonly unknown[];
  readonly status: ObjectStatus | undefined;
}

/** Everything except the routes: when all of it is identical, per-route results still hold. */
export type ContextKey = readonly unknown[];

export interface CacheState extends TranslateCache {
  context?: { key: ContextKey; value: unknown };
  /** The previous call's routes and their memos (translate.ts RouteLists). */
  routes: unknown;
  /** Lists the last sanitize() took as they were (graph.ts SanitizeHints). */
  sanitized?: ReadonlyMap<string, readonly unknown[]>;
  /** Backend sources by id, of every route translated in this context. */
  sources: Map<string, unknown>;
  /** The previous table, to patch (valid while the context is the same). */
  table?: TableState;
  /** Content hash of IR routes, virtual hosts, listeners and backends. */
  readonly hashes: WeakMap<object, string>;
  /**
   * IR backends by BackendSource's Service port object (h2c forced or not; by health check), valid while the context is the same: the
   * same object for an unchanged backend lets the proxy keep its compiled routes.
   */
  backends: WeakMap<object, { readonly forced: Map<unknown, unknown>; readonly plain: Map<unknown, unknown> }>;
}

export function createTranslateCache(): TranslateCache {
  const state: CacheState = { __translateCache: true, routes: undefined, sources: new Map(), hashes: new WeakMap(), backends: new WeakMap() };
  return state;
}

export function cacheState(cache: TranslateCache | undefined): CacheState | undefined {
  return cache !== undefined && typeof cache === 'object' && (cache as Partial<CacheState>).hashes instanceof WeakMap
    ? (cache as CacheState)
    : undefined;
}

const CONTEXT_LISTS = ['gatewayClasses', 'gateways', 'referenceGrants', 'namespaces', 'services', 'endpointSlices', 'secrets', 'trafficPolicies', 'authPolicies', 'consumers', 'configMaps', 'backendTLSPolicies', 'listenerSets'] as const;

export function contextOf(resources: Resources, options: TranslateOptions): ContextKey {
  return [
    options?.controllerName, options?.validateRegex, options?.gatewayAddress, options?.plugins,
    ...CONTEXT_LISTS.map((k) => resources[k]),
  ];
}

export function sameContext(a: ContextKey, b: ContextKey): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (x === y) continue;
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}
