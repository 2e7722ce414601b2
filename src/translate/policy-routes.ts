// Puts the policies that apply to a route on its IR routes, per listener: a Gateway- or
// listener-targeted policy depends on where the route is placed, so the same rule may carry
// different policy filters on two Gateways.
import type { Route } from '../ir/index.ts';
import type { ListenerInfo, RouteKind } from './listeners.ts';
import type { PolicyIndex } from './policies.ts';
import { policyFilters } from './policy-attach.ts';
import type { PlacedRoute } from './precedence.ts';
import type { Meta } from './safe.ts';

export function placeWithPolicies(
  index: PolicyIndex, routes: readonly PlacedRoute[], kind: RouteKind, m: Meta, listener: ListenerInfo, failures: string[],
): readonly PlacedRoute[] {
  if (index.byTarget.size === 0) return routes;
  let out: PlacedRoute[] | undefined;
  for (let i = 0; i < routes.length; i++) {
    const pr = routes[i]!;
    const pf = policyFilters(index, {
      routeKind: kind, routeNs: m.namespace, routeName: m.name,
      ...(pr.route.ruleName !== undefined ? { ruleName: pr.route.ruleName } : {}),
      gatewayNs: listener.gateway.meta.namespace, gatewayName: listener.gateway.meta.name, listenerName: listener.name,
    });
    for (const f of pf.failures) if (!failures.includes(f)) failures.push(f);
    if (pf.filters.length === 0 && pf.healthCheck === undefined) {
      out?.push(pr);
      continue;
    }
    out ??= routes.slice(0, i);
    const route: Route = pf.filters.length === 0 ? pr.route : { ...pr.route, filters: [...pf.filters, ...pr.route.filters] };
    out.push({ route, origin: pr.origin, ...(pf.healthCheck !== undefined ? { healthCheck: pf.healthCheck } : {}) });
  }
  return out ?? routes;
}
