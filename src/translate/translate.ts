// translate(): wires the stages together. Order matters: listeners (and their conflicts) must
// be known before routes attach, and attachment counts must be final before statuses are built.
import { attachRoute } from './attach.ts';
import type { BackendSource } from './backends.ts';
import { buildTable, type Placement } from './build-table.ts';
import { gatewayClassStatus, gatewayStatus, routeStatus, routeUsable, CONTROLLER_API_VERSION, type RouteStatusInput } from './build-status.ts';
import { contextOf, sameContext, type RouteMemo, cacheState } from './cache.ts';
import { buildGraph, sanitize, type Graph } from './graph.ts';
import { buildGateways, markConflicts, type GatewayInfo, type ListenerInfo, type RouteKind } from './listeners.ts';
import type { RegexCheck } from './matches.ts';
import type { Resources } from './resources.ts';
import { buildRouteRules } from './rules.ts';
import { compareStrings, meta, show } from './safe.ts';
import { buildPolicyIndex } from './policies.ts';
import { placeWithPolicies } from './policy-routes.ts';
import { policyStatuses } from './policy-status.ts';
import type { ObjectStatus, TranslateOptions, TranslateResult } from './types.ts';

function compareStatuses(a: ObjectStatus, b: ObjectStatus): number {
  return compareStrings(a.kind, b.kind) || compareStrings(a.namespace ?? '', b.namespace ?? '') || compareStrings(a.name, b.name);
}

interface ContextState {
  readonly graph: Graph;
  readonly gateways: readonly GatewayInfo[];
  readonly gatewayByKey: ReadonlyMap<string, GatewayInfo>;
}

function buildContext(resources: Resources, options: TranslateOptions, controllerName: string): ContextState {
  const base = buildGraph(resources, controllerName);
  const graph: Graph = { ...base, policies: buildPolicyIndex(base, options?.plugins) };
  const gateways = buildGateways(graph, options);
  markConflicts(gateways);
  return { graph, gateways, gatewayByKey: new Map(gateways.map((g) => [`${g.meta.namespace}/${g.meta.name}`, g])) };
}

/**
 * Pure: the output depends only on `input` and `options`. With `options.cache`, the work for
 * a route whose object and whose context (every non-route object and the options) are
 * unchanged since the previous call is reused, and so are its IR objects: a reload of 10,000
 * routes with one changed costs one route. The output is the same as without a cache.
 */
export function translate(input: Resources, options: TranslateOptions): TranslateResult {
  const resources = sanitize(input);
  const controllerName = typeof options?.controllerName === 'string' ? options.controllerName : '';
  const validateRegex: RegexCheck = typeof options?.validateRegex === 'function' ? options.validateRegex : () => undefined;
  const state = cacheState(options?.cache);
  const context = contextOf(resources, options);

  let ctx: ContextState;
  let memos: WeakMap<object, RouteMemo>;
  if (state?.context !== undefined && sameContext(state.context.key, context)) {
    ctx = { ...(state.context.value as ContextState), graph: { ...(state.context.value as ContextState).graph, resources } };
    // attachedRoutes is recounted from every route below, cached or not.
    for (const g of ctx.gateways) for (const l of g.listeners) l.attached.clear();
    memos = state.routes;
  } else {
    ctx = buildContext(resources, options, controllerName);
    memos = new WeakMap();
    if (state !== undefined) state.backends = new WeakMap();
  }
  const { graph, gateways, gatewayByKey } = ctx;

  const placements: Placement[] = [];
  const sources = new Map<string, BackendSource>();
  const routeStatuses: ObjectStatus[] = [];
  const routeLists: [RouteKind, readonly unknown[]][] = [['HTTPRoute', resources.httpRoutes], ['GRPCRoute', resources.grpcRoutes]];
  for (const [kind, routes] of routeLists) {
    // sanitize() left objects only, unique by namespace and name within each list.
    for (const route of routes as object[]) {
      let memo = memos.get(route);
      if (memo === undefined || memo.kind !== kind) {
        const m = meta(route);
        if (m.name === '') continue;
        memo = translateRoute(graph, gatewayByKey, route, kind, `${kind}/${m.namespace}/${m.name}`, validateRegex, controllerName);
        memos.set(route, memo);
      } else {
        for (const l of memo.countedOn as ListenerInfo[]) l.attached.add(memo.routeKey);
      }
      for (const s of memo.sources as BackendSource[]) if (!sources.has(s.id)) sources.set(s.id, s);
      for (const p of memo.placements as Placement[]) placements.push(p);
      if (memo.status !== undefined) routeStatuses.push(memo.status);
    }
  }

  const table = buildTable(graph, gateways.flatMap((g) => g.listeners), placements, sources, state);
  const statuses: ObjectStatus[] = [
    ...graph.ourClassObjects.map(gatewayClassStatus),
    ...gateways.map(gatewayStatus),
    ...routeStatuses,
    ...(graph.policies === undefined ? [] : policyStatuses(graph, graph.policies, controllerName)),
  ].sort(compareStatuses);
  if (state !== undefined) {
    state.context = { key: context, value: ctx };
    state.routes = memos;
  }
  return { table, statuses };
}

/** Everything one route contributes, given the context. */
function translateRoute(
  graph: Graph, gatewayByKey: ReadonlyMap<string, GatewayInfo>, route: unknown, kind: RouteKind, routeKey: string,
  validateRegex: RegexCheck, controllerName: string,
): RouteMemo {
  const m = meta(route);
  const countedOn: ListenerInfo[] = [];
  const parents = attachRoute(graph, gatewayByKey, route, kind, m.namespace, routeKey, countedOn);
  if (parents.length === 0) return { kind, routeKey, countedOn, sources: [], placements: [], status: undefined }; // not ours
  let input: RouteStatusInput;
  let sources: readonly BackendSource[] = [];
  try {
    const rules = buildRouteRules(graph, route, kind, m, validateRegex);
    sources = rules.sources;
    input = { apiVersion: CONTROLLER_API_VERSION, kind, meta: m, parents, rules: rules.rules, refFailures: rules.refFailures, policyFailures: rules.policyFailures };
  } catch (e) {
    // Defence in depth: a translator bug on one route must not take down the others.
    input = { apiVersion: CONTROLLER_API_VERSION, kind, meta: m, parents, rules: [], refFailures: [],
      internalError: `internal error while translating this route: ${e instanceof Error ? e.message : show(e)}` };
  }
  const placements: Placement[] = [];
  if (routeUsable(input)) {
    const routes = input.rules.flatMap((r) => r.routes);
    const policyFailures: string[] = [...(input.policyFailures ?? [])];
    for (const p of parents) {
      if (p.failure) continue;
      for (const a of p.listeners) {
        const placed = graph.policies === undefined ? routes : placeWithPolicies(graph.policies, routes, kind, m, a.listener, policyFailures);
        placements.push({ listener: a.listener, hostnames: a.hostnames, routes: placed });
      }
    }
    if (policyFailures.length > (input.policyFailures?.length ?? 0)) input = { ...input, policyFailures };
  }
  return { kind, routeKey, countedOn, sources, placements, status: routeStatus(input, controllerName) };
}
