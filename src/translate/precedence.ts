// Route precedence inside one virtual host (Gateway API HTTPRouteRule, "Proxy or Load
// Balancer routing configuration generated from HTTPRoutes MUST prioritize matches based on
// the following criteria, continuing on ties"): Exact path, then PathPrefix (regular
// expressions are implementation-specific; we put them last), longer value first, then a
// method match, then more header matches, then more query param matches; then the oldest
// route, then namespace/name alphabetical; then rule index and match index (first rule wins).
import type { Route } from '../ir/index.ts';
import { compareStrings } from './safe.ts';

export interface RouteOrigin {
  readonly creationTimestamp: string;
  readonly namespace: string;
  readonly name: string;
  /** HTTPRoute before GRPCRoute when everything else ties, so the order is total. */
  readonly kind: string;
  readonly rule: number;
  readonly match: number;
}

export interface PlacedRoute {
  readonly route: Route;
  readonly origin: RouteOrigin;
  /** Active health check a TrafficPolicy sets for this route's backends (policy-attach.ts). */
  readonly healthCheck?: { readonly id: string; readonly config: unknown };
}

const PATH_RANK: Readonly<Record<string, number>> = { Exact: 0, PathPrefix: 1, RegularExpression: 2 };

export function compareRoutes(a: PlacedRoute, b: PlacedRoute): number {
  const ma = a.route.match, mb = b.route.match;
  return (PATH_RANK[ma.path.type]! - PATH_RANK[mb.path.type]!)
    || (mb.path.value.length - ma.path.value.length)
    || ((ma.method === undefined ? 1 : 0) - (mb.method === undefined ? 1 : 0))
    || (mb.headers.length - ma.headers.length)
    || (mb.queryParams.length - ma.queryParams.length)
    // An absent creationTimestamp reads as '' and sorts as the oldest.
    || compareStrings(a.origin.creationTimestamp, b.origin.creationTimestamp)
    || compareStrings(a.origin.namespace, b.origin.namespace)
    || compareStrings(a.origin.name, b.origin.name)
    || compareStrings(a.origin.kind, b.origin.kind)
    || (a.origin.rule - b.origin.rule)
    || (a.origin.match - b.origin.match)
    || compareStrings(a.route.id, b.route.id);
}
