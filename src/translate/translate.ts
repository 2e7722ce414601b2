// translate(): wires the stages together. Order matters: listeners (and their conflicts) must
// be known before routes attach, and attachment counts must be final before statuses are built.
import { attachRoute } from './attach.ts';
import type { BackendSource } from './backends.ts';
import { buildTable, type Placement } from './build-table.ts';
import { gatewayClassStatus, gatewayStatus, routeStatus, routeUsable, CONTROLLER_API_VERSION, type RouteStatusInput } from './build-status.ts';
import { buildGraph, sanitize } from './graph.ts';
import { buildGateways, markConflicts, type GatewayInfo, type RouteKind } from './listeners.ts';
import type { RegexCheck } from './matches.ts';
import type { Resources } from './resources.ts';
import { buildRouteRules } from './rules.ts';
import { compareStrings, meta, show } from './safe.ts';
import type { ObjectStatus, TranslateOptions, TranslateResult } from './types.ts';

function compareStatuses(a: ObjectStatus, b: ObjectStatus): number {
  return compareStrings(a.kind, b.kind) || compareStrings(a.namespace ?? '', b.namespace ?? '') || compareStrings(a.name, b.name);
}

export function translate(input: Resources, options: TranslateOptions): TranslateResult {
  const resources = sanitize(input);
  const controllerName = typeof options?.controllerName === 'string' ? options.controllerName : '';
  const validateRegex: RegexCheck = typeof options?.validateRegex === 'function' ? options.validateRegex : () => undefined;
  const graph = buildGraph(resources, controllerName);

  const gateways = buildGateways(graph, options);
  markConflicts(gateways);
  const gatewayByKey = new Map<string, GatewayInfo>(gateways.map((g) => [`${g.meta.namespace}/${g.meta.name}`, g]));

  const placements: Placement[] = [];
  const sources = new Map<string, BackendSource>();
  const routeInputs: RouteStatusInput[] = [];
  const routeLists: [RouteKind, readonly unknown[]][] = [['HTTPRoute', resources.httpRoutes], ['GRPCRoute', resources.grpcRoutes]];
  for (const [kind, routes] of routeLists) {
    const seen = new Set<string>();
    for (const route of routes) {
      const m = meta(route);
      const routeKey = `${kind}/${m.namespace}/${m.name}`;
      if (m.name === '' || seen.has(routeKey)) continue;
      seen.add(routeKey);
      const parents = attachRoute(graph, gatewayByKey, route, kind, m.namespace, routeKey);
      if (parents.length === 0) continue; // not ours: no status, nothing served
      let input: RouteStatusInput;
      try {
        const rules = buildRouteRules(graph, route, kind, m, validateRegex);
        for (const s of rules.sources) if (!sources.has(s.id)) sources.set(s.id, s);
        input = { apiVersion: CONTROLLER_API_VERSION, kind, meta: m, parents, rules: rules.rules, refFailures: rules.refFailures };
      } catch (e) {
        // Defence in depth: a translator bug on one route must not take down the others.
        input = { apiVersion: CONTROLLER_API_VERSION, kind, meta: m, parents, rules: [], refFailures: [],
          internalError: `internal error while translating this route: ${e instanceof Error ? e.message : show(e)}` };
      }
      routeInputs.push(input);
      if (!routeUsable(input)) continue;
      const routes = input.rules.flatMap((r) => r.routes);
      for (const p of parents) {
        if (p.failure) continue;
        for (const a of p.listeners) placements.push({ listener: a.listener, hostnames: a.hostnames, routes });
      }
    }
  }

  const table = buildTable(graph, gateways.flatMap((g) => g.listeners), placements, sources);
  const statuses: ObjectStatus[] = [
    ...graph.ourClassObjects.map(gatewayClassStatus),
    ...gateways.map(gatewayStatus),
    ...routeInputs.flatMap((r) => routeStatus(r, controllerName) ?? []),
  ].sort(compareStatuses);
  return { table, statuses };
}
