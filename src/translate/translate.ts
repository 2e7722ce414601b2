// translate(): wires the stages together. Order matters: listeners (and their conflicts) must
// be known before routes attach, and attachment counts must be final before statuses are built.
import { attachRoute } from './attach.ts';
import type { BackendSource } from './backends.ts';
import { withBackendTls } from './backend-tls.ts';
import { buildTable, type Placement } from './build-table.ts';
import { patchTable } from './patch-table.ts';
import type { RoutingTable } from '../ir/index.ts';
import { gatewayClassStatus, gatewayStatus, routeStatus, routeUsable, CONTROLLER_API_VERSION, type RouteStatusInput } from './build-status.ts';
import { contextOf, sameContext, type RouteMemo, cacheState } from './cache.ts';
import { buildGraph, sanitize, type Graph } from './graph.ts';
import { buildGateways, isStreamKind, markConflicts, type GatewayInfo, type ListenerInfo, type RouteKind } from './listeners.ts';
import { buildListenerSets, listenerSetStatus, withAttachedListenerSets, type ListenerSetIndex, type ListenerSetInfo } from './listener-sets.ts';
import type { RegexCheck } from './matches.ts';
import type { Resources } from './resources.ts';
import { buildRouteRules } from './rules.ts';
import { compareMeta, compareStrings, meta, show } from './safe.ts';
import { buildPolicyIndex } from './policies.ts';
import { placeWithPolicies } from './policy-routes.ts';
import { policyStatuses } from './policy-status.ts';
import type { ObjectStatus, TranslateOptions, TranslateResult } from './types.ts';
import { translateStreamRoute, type StreamPlacement } from './stream-routes.ts';
import { withStreamRoutes } from './build-stream-table.ts';

function compareStatuses(a: ObjectStatus, b: ObjectStatus): number {
  return compareStrings(a.kind, b.kind) || compareStrings(a.namespace ?? '', b.namespace ?? '') || compareStrings(a.name, b.name);
}

interface ContextState {
  readonly graph: Graph;
  readonly gateways: readonly GatewayInfo[];
  readonly gatewayByKey: ReadonlyMap<string, GatewayInfo>;
  /** ListenerSets of our Gateways (GEP-1713), in precedence order. */
  readonly listenerSets: readonly ListenerSetInfo[];
  readonly listenerSetByKey: ListenerSetIndex;
}

function buildContext(resources: Resources, options: TranslateOptions, controllerName: string): ContextState {
  const base = buildGraph(resources, controllerName);
  const graph: Graph = { ...base, policies: buildPolicyIndex(base, options?.plugins) };
  const gateways = buildGateways(graph, options);
  markConflicts(gateways);
  // After the Gateways' own conflicts: their listeners take precedence over any set's.
  const listenerSets = buildListenerSets(graph, gateways, options);
  return {
    graph, gateways, gatewayByKey: new Map(gateways.map((g) => [`${g.meta.namespace}/${g.meta.name}`, g])),
    listenerSets, listenerSetByKey: new Map(listenerSets.map((s) => [`${s.meta.namespace}/${s.meta.name}`, s])),
  };
}

/**
 * Pure: the output depends only on `input` and `options`. With `options.cache`, the work for
 * a route whose object and whose context (every non-route object and the options) are
 * unchanged since the previous call is reused, and so are its IR objects: a reload of 10,000
 * routes with one changed costs one route. The output is the same as without a cache.
 */
export function translate(input: Resources, options: TranslateOptions): TranslateResult {
  try {
    return translateOnce(input, options);
  } catch (err) {
    // The cache is updated in place (attachment counts): after a failure it cannot be trusted.
    const state = cacheState(options?.cache);
    if (state !== undefined) state.context = undefined;
    throw err;
  }
}

function translateOnce(input: Resources, options: TranslateOptions): TranslateResult {
  const state = cacheState(options?.cache);
  const { resources, nextHints } = sanitize(input, state?.sanitized);
  if (state !== undefined) state.sanitized = nextHints;
  const controllerName = typeof options?.controllerName === 'string' ? options.controllerName : '';
  const validateRegex: RegexCheck = typeof options?.validateRegex === 'function' ? options.validateRegex : () => undefined;
  const context = contextOf(resources, options);

  let ctx: ContextState;
  let previous: RouteLists | undefined;
  if (state?.context !== undefined && sameContext(state.context.key, context)) {
    ctx = { ...(state.context.value as ContextState), graph: { ...(state.context.value as ContextState).graph, resources } };
    previous = state.routes as RouteLists;
  } else {
    ctx = buildContext(resources, options, controllerName);
    if (state !== undefined) {
      state.backends = new WeakMap();
      state.table = undefined;
      state.sources = new Map();
    }
  }
  const { graph, gateways, gatewayByKey, listenerSets, listenerSetByKey } = ctx;

  // Routes are diffed against the previous call by identity (both lists sorted by namespace and
  // name): kept routes reuse what they contributed, removed ones give their attachments back,
  // and only the others are translated.
  const lists: RouteLists = new Map();
  const removedMemos: RouteMemo[] = [];
  const toTranslate: { kind: RouteKind; route: object; routeKey: string; list: RouteMemo[]; at: number }[] = [];
  const routeLists: [RouteKind, readonly object[]][] = [
    ['HTTPRoute', resources.httpRoutes], ['GRPCRoute', resources.grpcRoutes],
    ['TLSRoute', resources.tlsRoutes ?? []], ['TCPRoute', resources.tcpRoutes ?? []], ['UDPRoute', resources.udpRoutes ?? []],
  ];
  for (const [kind, routes] of routeLists) {
    const before = previous?.get(kind);
    const kept: object[] = [];
    const memos: RouteMemo[] = [];
    let j = 0;
    // sanitize() left objects only, unique by namespace and name within each list.
    for (const route of routes) {
      if (before !== undefined) {
        if (j < before.routes.length && before.routes[j] === route) {
          kept.push(route);
          memos.push(before.memos[j++]!);
          continue;
        }
        const m = meta(route);
        // Previous routes that sort before this one, or are an older version of it, are gone.
        while (j < before.routes.length && compareMeta(meta(before.routes[j]), m) <= 0) removedMemos.push(before.memos[j++]!);
      }
      const m = meta(route);
      if (m.name === '') continue;
      kept.push(route);
      toTranslate.push({ kind, route, routeKey: `${kind}/${m.namespace}/${m.name}`, list: memos, at: memos.length });
      memos.push(undefined as unknown as RouteMemo);
    }
    if (before !== undefined) while (j < before.routes.length) removedMemos.push(before.memos[j++]!);
    lists.set(kind, { routes: kept, memos });
  }
  // Attachments of removed routes go first: a changed route is removed and added under one key.
  for (const memo of removedMemos) for (const l of memo.countedOn as ListenerInfo[]) l.attached.delete(memo.routeKey);
  const sources = (state?.sources ?? new Map()) as Map<string, BackendSource>;
  const addedMemos: RouteMemo[] = [];
  for (const t of toTranslate) {
    const memo = isStreamKind(t.kind)
      ? translateStreamRoute(graph, gatewayByKey, t.route, t.kind, t.routeKey, controllerName, listenerSetByKey)
      : translateRoute(graph, gatewayByKey, t.route, t.kind, t.routeKey, validateRegex, controllerName, listenerSetByKey);
    t.list[t.at] = memo;
    addedMemos.push(memo);
    // A backend id names one Service port: any route's source for it is as good as another's.
    for (const s of memo.sources as BackendSource[]) if (!sources.has(s.id)) sources.set(s.id, s);
  }

  // HTTP placements build or patch the HTTP table; stream routes (few) are laid out afresh.
  const httpPlacements = (memos: readonly RouteMemo[]): Placement[] =>
    memos.flatMap((m) => (isStreamKind(m.kind as RouteKind) ? [] : (m.placements as Placement[])));
  const allListeners = [...gateways.flatMap((g) => g.listeners), ...listenerSets.flatMap((s) => s.listeners)];
  let httpTable: RoutingTable | undefined;
  if (previous !== undefined && state?.table !== undefined) {
    httpTable = patchTable(graph, state.table, httpPlacements(removedMemos), httpPlacements(addedMemos), sources, state);
  }
  httpTable ??= buildTable(graph, allListeners, httpPlacements([...lists.values()].flatMap((l) => l.memos)), sources, state);
  const streamPlacements: StreamPlacement[] = [];
  for (const [kind, l] of lists) if (isStreamKind(kind)) for (const m of l.memos) for (const p of m.placements as StreamPlacement[]) streamPlacements.push(p);
  const streamTable = withStreamRoutes(httpTable, graph, allListeners, streamPlacements, sources);
  const { table, statuses: backendTlsStatuses } = withBackendTls(streamTable, graph, gateways, controllerName);

  // Statuses sorted by kind, namespace, name. A route kind's statuses are already in that
  // order (its list is sorted by namespace and name), so only the few others are sorted, and
  // the blocks are laid out by kind.
  const blocks = new Map<string, ObjectStatus[]>();
  for (const [kind, l] of lists) {
    const block: ObjectStatus[] = [];
    for (const m of l.memos) if (m.status !== undefined) block.push(m.status);
    blocks.set(kind, block);
  }
  const others = [
    ...graph.ourClassObjects.map(gatewayClassStatus),
    ...withAttachedListenerSets(gateways.map(gatewayStatus), gateways, listenerSets),
    ...listenerSets.map(listenerSetStatus),
    ...(graph.policies === undefined ? [] : policyStatuses(graph, graph.policies, controllerName)),
    ...backendTlsStatuses,
  ];
  const unsorted = new Set<string>();
  for (const st of others) {
    const block = blocks.get(st.kind);
    if (block === undefined) blocks.set(st.kind, [st]);
    else block.push(st);
    unsorted.add(st.kind);
  }
  const statuses: ObjectStatus[] = [];
  for (const kind of [...blocks.keys()].sort(compareStrings)) {
    const block = blocks.get(kind)!;
    if (unsorted.has(kind)) block.sort(compareStatuses);
    for (const st of block) statuses.push(st);
  }
  if (state !== undefined) {
    state.context = { key: context, value: ctx };
    state.routes = lists;
  }
  return { table, statuses };
}

/** Each route kind's routes (sorted, as translated) and what each contributed, by position. */
type RouteLists = Map<RouteKind, { readonly routes: readonly object[]; readonly memos: readonly RouteMemo[] }>;

/** Everything one route contributes, given the context. */
function translateRoute(
  graph: Graph, gatewayByKey: ReadonlyMap<string, GatewayInfo>, route: unknown, kind: RouteKind, routeKey: string,
  validateRegex: RegexCheck, controllerName: string, listenerSetByKey?: ListenerSetIndex,
): RouteMemo {
  const m = meta(route);
  const countedOn: ListenerInfo[] = [];
  const parents = attachRoute(graph, gatewayByKey, route, kind, m.namespace, routeKey, countedOn, listenerSetByKey);
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
