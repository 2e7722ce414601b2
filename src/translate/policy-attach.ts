// Policies → plugin filters on IR routes.
//
// Precedence (GEP-713 "most specific wins", ordered like Kong's route+consumer > route >
// service+consumer > consumer > service > global). For one plugin kind on one route, the
// candidates are ranked:
//
//   0 rule + consumer      (targetRef HTTPRoute with sectionName = rule name, consumerRefs)
//   1 rule                 (targetRef HTTPRoute with sectionName = rule name)
//   2 route + consumer     (targetRef HTTPRoute, consumerRefs)
//   3 listener + consumer  (targetRef Gateway with sectionName = listener name, consumerRefs)
//   4 gateway + consumer   (targetRef Gateway, consumerRefs)
//   5 route                (targetRef HTTPRoute)
//   6 listener             (targetRef Gateway with sectionName)
//   7 gateway              (targetRef Gateway)
//
// Kong's "route" is a rule here, its "service" an HTTPRoute, "consumer" a consumer-scoped
// policy on the Gateway, "global" the Gateway. Ties go to the oldest policy (GEP-713); the
// others are Conflicted. Consumers are known only per request (after authentication), so
// the ordered list goes into the table as a `policy-select` filter and the proxy takes the
// first candidate that applies to the caller; a candidate for everyone ends the list.
//
// Policy plugins run before the rule's own filters, in plugin priority order (authentication,
// IP rules, rate limiting, transforms). ExtensionRef filters run where they are in the rule.
import type { Filter } from '../ir/index.ts';
import type { PolicyIndex, PolicyInfo } from './policies.ts';
import { HEALTH_CHECK, POLICY_GROUP, targetKey } from './policies.ts';

interface Candidate {
  readonly rank: number;
  readonly policy: PolicyInfo;
  readonly pluginKind: string;
  readonly id: string;
  readonly config: unknown;
}

export interface PolicyPlacement {
  readonly routeKind: string;
  readonly routeNs: string;
  readonly routeName: string;
  readonly ruleName?: string;
  readonly gatewayNs: string;
  readonly gatewayName: string;
  readonly listenerName: string;
}

export interface PolicyFilters {
  readonly filters: readonly Filter[];
  /** Invalid policies that apply here: the route fails closed and its status says so. */
  readonly failures: readonly string[];
  /**
   * The most specific valid `healthCheck` that applies here: it configures the route's
   * backends (IR Backend.healthCheck), not its filters. An invalid one is left out: health
   * checks only ever take endpoints out, so without them every endpoint serves.
   */
  readonly healthCheck?: { readonly id: string; readonly config: unknown };
}

const INVALID_CONFIG = { reason: 'policy is invalid; see its status' };

function describe(p: PolicyInfo): string {
  return `${p.kind} ${p.meta.namespace}/${p.meta.name}`;
}

export function invalidFilter(id: string): Filter {
  return { type: 'Plugin', plugin: { kind: 'invalid', id, config: INVALID_CONFIG } };
}

/** One plugin filter for a feature (or the fail-closed filter when its policy is invalid). */
function featureFilter(c: { readonly policy: PolicyInfo; readonly pluginKind: string; readonly id: string; readonly config: unknown }): Filter {
  if (c.policy.errors.length > 0) return invalidFilter(c.id);
  return { type: 'Plugin', plugin: { kind: c.pluginKind, id: c.id, config: c.config } };
}

export function policyFilters(index: PolicyIndex, at: PolicyPlacement): PolicyFilters {
  const levels: [string | undefined, number, number][] = [
    [at.ruleName === undefined ? undefined : targetKey(at.routeKind, at.routeNs, at.routeName, at.ruleName), 0, 1],
    [targetKey(at.routeKind, at.routeNs, at.routeName, undefined), 2, 5],
    [targetKey('Gateway', at.gatewayNs, at.gatewayName, at.listenerName), 3, 6],
    [targetKey('Gateway', at.gatewayNs, at.gatewayName, undefined), 4, 7],
  ];
  const byKind = new Map<string, Candidate[]>();
  for (const [key, consumerRank, plainRank] of levels) {
    if (key === undefined) continue;
    const list = index.byTarget.get(key);
    if (list === undefined) continue;
    for (const policy of list) {
      for (const f of policy.features) {
        if (policy.conflicted.has(`${key}|${f.pluginKind}`)) continue;
        // One attachment, one instance: a policy targeting three rules limits each rule on its
        // own (as three Kong route plugins would); targeting a Gateway, all of it together.
        const id = `${f.id}@${key.replace(/\/$/, '')}`;
        const c: Candidate = { rank: policy.consumers !== undefined ? consumerRank : plainRank, policy, pluginKind: f.pluginKind, id, config: f.config };
        const l = byKind.get(f.pluginKind);
        if (l === undefined) byKind.set(f.pluginKind, [c]);
        else l.push(c);
      }
    }
  }
  if (byKind.size === 0) return NONE;
  const filters: Filter[] = [];
  const failures: string[] = [];
  let healthCheck: PolicyFilters['healthCheck'];
  const kinds = [...byKind.keys()].sort((a, b) => index.priority(b) - index.priority(a) || (a < b ? -1 : a > b ? 1 : 0));
  for (const kind of kinds) {
    if (kind === HEALTH_CHECK) {
      const best = byKind.get(kind)!.filter((c) => c.policy.errors.length === 0).sort((a, b) => a.rank - b.rank)[0];
      if (best !== undefined) healthCheck = { id: best.id, config: best.config };
      continue;
    }
    // Stable: equal ranks keep the index's oldest-first order.
    const sorted = byKind.get(kind)!.sort((a, b) => a.rank - b.rank);
    const used: Candidate[] = [];
    for (const c of sorted) {
      used.push(c);
      if (c.policy.consumers === undefined) break;
    }
    for (const c of used) if (c.policy.errors.length > 0) failures.push(`${describe(c.policy)} (${c.pluginKind}) is invalid; requests answer 500`);
    filters.push(selectFilter(used, `policies/${at.routeKind.toLowerCase()}/${at.routeNs}/${at.routeName}/${kind}`));
  }
  return healthCheck === undefined ? { filters, failures } : { filters, failures, healthCheck };
}

const NONE: PolicyFilters = { filters: [], failures: [] };

/** A single filter for everyone, or a policy-select over consumer-scoped candidates. */
function selectFilter(used: readonly { readonly policy: PolicyInfo; readonly pluginKind: string; readonly id: string; readonly config: unknown }[], id: string): Filter {
  if (used.length === 1 && used[0]!.policy.consumers === undefined) return featureFilter(used[0]!);
  const candidates = used.map((c) => {
    const f = featureFilter(c) as Extract<Filter, { type: 'Plugin' }>;
    return { id: f.plugin.id, kind: f.plugin.kind, ...(c.policy.consumers !== undefined ? { consumers: c.policy.consumers } : {}), config: f.plugin.config };
  });
  return { type: 'Plugin', plugin: { kind: 'policy-select', id, config: { candidates } } };
}

/**
 * An ExtensionRef to a fluxgate.io policy: its features as filters at the filter's position.
 * Gateway API: a custom filter that cannot be resolved must not be skipped; requests get an
 * error instead, so unknown and invalid references become fail-closed filters.
 */
export function extensionRefFilters(index: PolicyIndex | undefined, group: string, kind: string, name: string, ns: string, field: string): PolicyFilters {
  const id = `extensionref/${ns}/${kind}/${name}`;
  if (group !== POLICY_GROUP || (kind !== 'TrafficPolicy' && kind !== 'AuthPolicy')) {
    return { filters: [invalidFilter(id)], failures: [`${field}: ${group}/${kind} is not a filter kind (TrafficPolicy or AuthPolicy of ${POLICY_GROUP}); requests answer 500`] };
  }
  const p = index?.byName.get(`${kind}/${ns}/${name}`);
  if (p === undefined) return { filters: [invalidFilter(id)], failures: [`${field}: ${kind} "${name}" not found; requests answer 500`] };
  if (p.errors.length > 0) return { filters: p.features.length > 0 ? p.features.map((f) => invalidFilter(f.id)) : [invalidFilter(id)], failures: [`${field}: ${describe(p)} is invalid; requests answer 500`] };
  // A healthCheck configures backends through targetRefs; as a filter it has nothing to do.
  const features = p.features.filter((f) => f.pluginKind !== HEALTH_CHECK).sort((a, b) => index!.priority(b.pluginKind) - index!.priority(a.pluginKind));
  return { filters: features.map((f) => selectFilter([{ policy: p, pluginKind: f.pluginKind, id: f.id, config: f.config }], f.id)), failures: [] };
}
