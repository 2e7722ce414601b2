// HTTPRoute and GRPCRoute rules → IR routes, one per match. A rule with an invalid value is
// dropped (the route reports PartiallyInvalid); unresolved backendRefs keep the rule and
// answer 500 for their share of the weight (Gateway API HTTPBackendRef).
import type { Filter, Route, RetryPolicy, Timeouts, WeightedBackendRef } from '../ir/index.ts';
import type { BackendRefFailureReason } from '../status/index.ts';
import { resolveBackendRef, type BackendSource, type RefFailure } from './backends.ts';
import { parseDuration } from './duration.ts';
import { asBackendFilters, buildFilters, type FilterContext } from './filters.ts';
import type { Graph } from './graph.ts';
import type { RouteKind } from './listeners.ts';
import { buildGrpcMatch, buildHttpMatch, DEFAULT_MATCH, type MatchResult, type RegexCheck } from './matches.ts';
import type { PlacedRoute } from './precedence.ts';
import { indexed, int, obj, str, type Meta, type Obj, show } from './safe.ts';

export interface RuleOutput {
  readonly index: number;
  readonly routes: PlacedRoute[];
  /** Invalid values; non-empty means the rule is dropped. */
  readonly errors: string[];
}

export interface RouteRules {
  readonly rules: RuleOutput[];
  readonly refFailures: RefFailure[];
  readonly sources: BackendSource[];
  /** fluxgate.io ExtensionRefs that fail closed (missing or invalid policy). */
  readonly policyFailures: string[];
}

export const ERROR_CODES: Readonly<Record<BackendRefFailureReason, string>> = {
  BackendNotFound: 'BACKEND_NOT_FOUND',
  RefNotPermitted: 'BACKEND_REF_NOT_PERMITTED',
  InvalidKind: 'BACKEND_INVALID_KIND',
  UnsupportedProtocol: 'BACKEND_UNSUPPORTED_PROTOCOL',
};

/** Gateway API HTTPRouteTimeouts. "0s" disables a timeout; backendRequest must not exceed request. */
function buildTimeouts(x: unknown, field: string, errors: string[]): Timeouts | undefined {
  const t = obj(x);
  if (!t) return undefined;
  const read = (name: 'request' | 'backendRequest'): number | undefined => {
    if (t[name] === undefined) return undefined;
    const ms = parseDuration(t[name]);
    if (ms === undefined) errors.push(`${field}.${name}: "${show(t[name])}" is not a duration (e.g. "10s", "500ms", "1h2m")`);
    return ms === 0 ? undefined : ms;
  };
  const requestMs = read('request');
  const backendRequestMs = read('backendRequest');
  if (requestMs !== undefined && backendRequestMs !== undefined && backendRequestMs > requestMs) {
    errors.push(`${field}.backendRequest: ${show(t.backendRequest)} exceeds request timeout ${show(t.request)}`);
  }
  if (requestMs === undefined && backendRequestMs === undefined) return undefined;
  return { ...(requestMs !== undefined ? { requestMs } : {}), ...(backendRequestMs !== undefined ? { backendRequestMs } : {}) };
}

/** Gateway API HTTPRouteRetry (experimental): attempts, codes (400-599), backoff. */
function buildRetry(x: unknown, field: string, errors: string[]): RetryPolicy | undefined {
  const r = obj(x);
  if (!r) return undefined;
  // The spec leaves the default number of attempts to the implementation: one retry.
  const attempts = r.attempts === undefined ? 1 : int(r.attempts);
  if (attempts === undefined || attempts < 0) {
    errors.push(`${field}.attempts: must be a non-negative integer`);
    return undefined;
  }
  const codes: number[] = [];
  for (const [c, i] of (Array.isArray(r.codes) ? r.codes : []).map((c: unknown, i: number) => [c, i] as const)) {
    const n = int(c);
    if (n === undefined || n < 400 || n > 599) {
      errors.push(`${field}.codes[${i}]: ${show(c)} is not a status code in 400-599`);
      return undefined;
    }
    if (!codes.includes(n)) codes.push(n);
  }
  let backoffMs: number | undefined;
  if (r.backoff !== undefined) {
    backoffMs = parseDuration(r.backoff);
    if (backoffMs === undefined) {
      errors.push(`${field}.backoff: "${show(r.backoff)}" is not a duration`);
      return undefined;
    }
  }
  if (attempts === 0) return undefined;
  return { attempts, codes: codes.sort((a, b) => a - b), ...(backoffMs !== undefined ? { backoffMs } : {}) };
}

interface Ctx {
  readonly graph: Graph;
  readonly kind: RouteKind;
  readonly meta: Meta;
  readonly validateRegex: RegexCheck;
}

function dedupePush<T extends { message: string }>(list: T[], items: readonly T[]): void {
  for (const i of items) if (!list.some((x) => x.message === i.message)) list.push(i);
}
function dedupeStrings(list: string[], items: readonly string[]): void {
  for (const i of items) if (!list.includes(i)) list.push(i);
}

function buildRule(ctx: Ctx, rule: Obj, index: number, out: RouteRules): RuleOutput {
  const field = `spec.rules[${index}]`;
  const errors: string[] = [];
  const isHttp = ctx.kind === 'HTTPRoute';
  const ns = ctx.meta.namespace;
  const prefix = isHttp ? 'httproute' : 'grpcroute';
  const timeouts = isHttp ? buildTimeouts(rule.timeouts, `${field}.timeouts`, errors) : undefined;
  const retry = isHttp ? buildRetry(rule.retry, `${field}.retry`, errors) : undefined;
  const ruleName = str(rule.name);

  const rawMatches = indexed(rule.matches);
  const matches: { result: MatchResult; index: number }[] = rawMatches.length === 0
    ? [{ result: { ok: true, match: DEFAULT_MATCH }, index: 0 }]
    : rawMatches.map(([m, j]) => ({
      result: isHttp ? buildHttpMatch(m, `${field}.matches[${j}]`, ctx.validateRegex) : buildGrpcMatch(m, `${field}.matches[${j}]`, ctx.validateRegex),
      index: j,
    }));

  const routes: PlacedRoute[] = [];
  for (const { result, index: j } of matches) {
    if (!result.ok) { dedupeStrings(errors, [result.error]); continue; }
    const fctx: FilterContext = { graph: ctx.graph, routeKind: ctx.kind, routeNs: ns, path: result.match.path };
    const rf = buildFilters(rule.filters, `${field}.filters`, isHttp ? 'httpRule' : 'grpcRule', fctx);
    dedupeStrings(errors, rf.errors);
    dedupeStrings(out.policyFailures, rf.policyFailures);
    dedupePush(out.refFailures, rf.refFailures);
    out.sources.push(...rf.sources);
    const backendRefs: WeightedBackendRef[] = [];
    for (const [ref, k] of indexed(rule.backendRefs)) {
      const bf = `${field}.backendRefs[${k}]`;
      const weight = ref.weight === undefined ? 1 : int(ref.weight);
      if (weight === undefined || weight < 0 || weight > 1_000_000) {
        dedupeStrings(errors, [`${bf}.weight: ${show(ref.weight)} is not in 0-1000000`]);
        continue;
      }
      const res = resolveBackendRef(ctx.graph, ref, bf, ctx.kind, ns);
      const filters = buildFilters(ref.filters, `${bf}.filters`, isHttp ? 'backend' : 'grpcRule', fctx);
      dedupeStrings(errors, filters.errors);
      dedupePush(out.refFailures, filters.refFailures);
      out.sources.push(...filters.sources);
      if (!res.ok) dedupePush(out.refFailures, [res.failure]);
      // Gateway API: a backendRef of weight 0 receives no traffic.
      if (weight === 0) continue;
      if (res.ok) {
        out.sources.push(res.source);
        backendRefs.push({ kind: 'backend', backendId: res.source.id, weight, filters: asBackendFilters(filters.filters) });
      } else {
        backendRefs.push({ kind: 'invalid', weight, status: 500, code: ERROR_CODES[res.failure.reason] });
      }
    }
    const route: Route = {
      id: `${prefix}/${ns}/${ctx.meta.name}/rule/${index}/match/${j}`,
      ...(ruleName !== undefined ? { ruleName } : {}),
      match: result.match,
      filters: rf.filters as Filter[],
      backendRefs,
      ...(timeouts ? { timeouts } : {}),
      ...(retry ? { retry } : {}),
    };
    routes.push({ route, origin: { creationTimestamp: ctx.meta.creationTimestamp, namespace: ns, name: ctx.meta.name, kind: ctx.kind, rule: index, match: j } });
  }
  return { index, routes: errors.length === 0 ? routes : [], errors };
}

export function buildRouteRules(graph: Graph, route: unknown, kind: RouteKind, meta: Meta, validateRegex: RegexCheck): RouteRules {
  const out: RouteRules = { rules: [], refFailures: [], sources: [], policyFailures: [] };
  const spec = obj(obj(route)?.spec);
  const ctx: Ctx = { graph, kind, meta, validateRegex };
  // Gateway API: spec.rules defaults to one rule matching PathPrefix "/" (with no backends).
  const rules = spec?.rules === undefined ? [[{}, 0] as [Obj, number]] : indexed(spec.rules);
  for (const [rule, i] of rules) out.rules.push(buildRule(ctx, rule, i, out));
  return out;
}

