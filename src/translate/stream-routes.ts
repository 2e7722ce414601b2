// TLSRoute, TCPRoute and UDPRoute → IR stream routes. These routes have no matches: every rule
// contributes weighted backendRefs, and a listener hostname (TLS: an SNI hostname) is served by
// exactly one route, the oldest (Gateway API: conflicting routes are resolved by creation
// time, then namespace/name; conformance TCPRouteMultipleRoutesAttachment).
import type { StreamRoute, WeightedBackendRef } from '../ir/index.ts';
import { attachRoute } from './attach.ts';
import type { ListenerSetIndex } from './listener-sets.ts';
import { resolveBackendRef, type BackendSource, type RefFailure } from './backends.ts';
import { CONTROLLER_API_VERSION, routeStatus, routeUsable, type RouteStatusInput } from './build-status.ts';
import type { RouteMemo } from './cache.ts';
import type { Graph } from './graph.ts';
import type { GatewayInfo, ListenerInfo, StreamRouteKind } from './listeners.ts';
import { ERROR_CODES, type RuleOutput } from './rules.ts';
import { compareStrings, indexed, int, meta, obj, show, str, type Meta } from './safe.ts';

export interface StreamRules {
  /** One per spec.rules entry, for the route status (errors; `routes` stays empty). */
  readonly rules: RuleOutput[];
  readonly refFailures: RefFailure[];
  readonly sources: BackendSource[];
  /** Weighted backendRefs of every valid rule, in spec order. */
  readonly backendRefs: WeightedBackendRef[];
}

/** One attached stream route on one listener, under the hostnames it serves there. */
export interface StreamPlacement {
  readonly listener: ListenerInfo;
  readonly hostnames: readonly string[];
  readonly route: Omit<StreamRoute, 'hostname' | 'listenerId'>;
  readonly creationTimestamp: string;
  readonly namespace: string;
  readonly name: string;
}

export function streamRouteId(kind: StreamRouteKind, m: Meta): string {
  return `${kind.toLowerCase()}/${m.namespace}/${m.name}`;
}

/**
 * The Service port protocol a route kind can forward to: UDPRoute needs UDP, TLSRoute and
 * TCPRoute need TCP (the Kubernetes default). Anything else could never carry the traffic.
 */
function portProtocolFits(kind: StreamRouteKind, servicePort: Record<string, unknown>): boolean {
  const protocol = str(servicePort.protocol) ?? 'TCP';
  return kind === 'UDPRoute' ? protocol === 'UDP' : protocol === 'TCP';
}

export function buildStreamRules(graph: Graph, route: unknown, kind: StreamRouteKind, m: Meta): StreamRules {
  const out: StreamRules = { rules: [], refFailures: [], sources: [], backendRefs: [] };
  const spec = obj(obj(route)?.spec);
  const addFailure = (f: RefFailure): void => {
    if (!out.refFailures.some((x) => x.message === f.message)) out.refFailures.push(f);
  };
  for (const [rule, i] of indexed(spec?.rules)) {
    const field = `spec.rules[${i}]`;
    const errors: string[] = [];
    const refs: WeightedBackendRef[] = [];
    for (const [ref, k] of indexed(rule.backendRefs)) {
      const bf = `${field}.backendRefs[${k}]`;
      const weight = ref.weight === undefined ? 1 : int(ref.weight);
      if (weight === undefined || weight < 0 || weight > 1_000_000) {
        errors.push(`${bf}.weight: ${show(ref.weight)} is not in 0-1000000`);
        continue;
      }
      let res = resolveBackendRef(graph, ref, bf, kind, m.namespace);
      if (res.ok && !portProtocolFits(kind, res.source.servicePort)) {
        const protocol = str(res.source.servicePort.protocol) ?? 'TCP';
        res = { ok: false, failure: { reason: 'UnsupportedProtocol', message: `${bf}: ${kind} cannot forward to Service port ${show(ref.port)} of protocol ${protocol}` } };
      }
      if (!res.ok) addFailure(res.failure);
      // Gateway API: a backendRef of weight 0 receives no traffic.
      if (weight === 0) continue;
      if (res.ok) {
        out.sources.push(res.source);
        refs.push({ kind: 'backend', backendId: res.source.id, weight, filters: [] });
      } else {
        // Gateway API TLSRouteRule.backendRefs: connections to an invalid backend are rejected,
        // respecting weight. The status is unused on streams; the code names the reason in logs.
        refs.push({ kind: 'invalid', weight, status: 500, code: ERROR_CODES[res.failure.reason] });
      }
    }
    out.rules.push({ index: i, routes: [], errors });
    if (errors.length === 0) out.backendRefs.push(...refs);
  }
  if (out.rules.length === 0) {
    // The CRDs require one rule; a document without any (standalone YAML) forwards nowhere.
    out.rules.push({ index: 0, routes: [], errors: [] });
  }
  return out;
}

/** Older route first, then namespace and name: the route that keeps a contested hostname. */
export function compareStreamPlacements(a: StreamPlacement, b: StreamPlacement): number {
  // An absent creationTimestamp reads as '' and sorts as the oldest.
  return compareStrings(a.creationTimestamp, b.creationTimestamp)
    || compareStrings(a.namespace, b.namespace)
    || compareStrings(a.name, b.name)
    || compareStrings(a.route.id, b.route.id);
}

/** Everything one stream route contributes, given the context (the stream twin of translateRoute). */
export function translateStreamRoute(
  graph: Graph, gatewayByKey: ReadonlyMap<string, GatewayInfo>, route: unknown, kind: StreamRouteKind, routeKey: string, controllerName: string,
  listenerSetByKey?: ListenerSetIndex,
): RouteMemo {
  const m = meta(route);
  const countedOn: ListenerInfo[] = [];
  const parents = attachRoute(graph, gatewayByKey, route, kind, m.namespace, routeKey, countedOn, listenerSetByKey);
  if (parents.length === 0) return { kind, routeKey, countedOn, sources: [], placements: [], status: undefined }; // not ours
  let input: RouteStatusInput;
  let rules: StreamRules | undefined;
  try {
    rules = buildStreamRules(graph, route, kind, m);
    input = { apiVersion: CONTROLLER_API_VERSION, kind, meta: m, parents, rules: rules.rules, refFailures: rules.refFailures };
  } catch (e) {
    // Defence in depth: a translator bug on one route must not take down the others.
    input = { apiVersion: CONTROLLER_API_VERSION, kind, meta: m, parents, rules: [], refFailures: [],
      internalError: `internal error while translating this route: ${e instanceof Error ? e.message : show(e)}` };
  }
  const placements: StreamPlacement[] = [];
  if (rules !== undefined && routeUsable(input)) {
    const streamRoute = { id: streamRouteId(kind, m), backendRefs: rules.backendRefs };
    for (const p of parents) {
      if (p.failure) continue;
      for (const a of p.listeners) {
        placements.push({ listener: a.listener, hostnames: a.hostnames, route: streamRoute,
          creationTimestamp: m.creationTimestamp, namespace: m.namespace, name: m.name });
      }
    }
  }
  return { kind, routeKey, countedOn, sources: rules?.sources ?? [], placements, status: routeStatus(input, controllerName) };
}
