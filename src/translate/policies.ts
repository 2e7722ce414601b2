// fluxgate.io policies (TrafficPolicy, AuthPolicy): each feature of a policy (rateLimit,
// keyAuth...) is one plugin config, validated by its plugin (TranslateOptions.plugins), so a
// bad value becomes a condition naming the field. Built once per context, like the Graph.
import type { FieldProblem, ValidateContext } from '../plugins/types.ts';
import type { PluginValidators } from '../plugins/validators.ts';
import type { Graph } from './graph.ts';
import { selectorMatches } from './label-selector.ts';
import { resolveConsumers, secretData, type ConsumerInfo } from './policy-consumers.ts';
import { GATEWAY_GROUP } from './reference-grants.ts';
import { compareStrings, indexed, meta, obj, str, type Meta } from './safe.ts';

export const POLICY_GROUP = 'fluxgate.io';
export const POLICY_API_VERSION = 'fluxgate.io/v1alpha1';
export type PolicyKind = 'TrafficPolicy' | 'AuthPolicy';
/** The feature that configures backends (IR Backend.healthCheck), not a request filter. */
export const HEALTH_CHECK = 'health-check';

/** Spec field → plugin kind, per policy kind. */
const FEATURES: Readonly<Record<PolicyKind, readonly (readonly [string, string])[]>> = {
  TrafficPolicy: [['rateLimit', 'rate-limit'], ['ipRestriction', 'ip-restriction'], ['requestTransform', 'request-transform'], ['responseTransform', 'response-transform'], ['circuitBreaker', 'circuit-breaker'], ['healthCheck', HEALTH_CHECK]],
  AuthPolicy: [['keyAuth', 'key-auth'], ['basicAuth', 'basic-auth'], ['jwt', 'jwt'], ['oidc', 'oidc']],
};
const COMMON_FIELDS = ['targetRefs', 'consumerRefs', 'consumerSelector'];

export interface PolicyFeature {
  readonly pluginKind: string;
  /** `spec.rateLimit`. */
  readonly field: string;
  /** `policy/<ns>/<Kind>/<name>/<feature>`: stable across reloads (rate-limit counters key on it). */
  readonly id: string;
  /** The validated config; undefined when the policy is invalid (its routes fail closed). */
  readonly config: unknown;
}

export interface PolicyTarget {
  readonly index: number;
  readonly kind: 'Gateway' | 'HTTPRoute' | 'GRPCRoute';
  readonly name: string;
  readonly sectionName?: string;
  /** `<kind>/<ns>/<name>/<sectionName or ''>`. */
  readonly key: string;
}

export interface PolicyInfo {
  readonly kind: PolicyKind;
  readonly meta: Meta;
  readonly features: readonly PolicyFeature[];
  /** Non-empty: Accepted=False (Invalid), every feature fails closed where it applies. */
  readonly errors: readonly FieldProblem[];
  /** Consumer usernames the policy is scoped to (TrafficPolicy consumerRefs); undefined: all. */
  readonly consumers?: readonly string[];
  readonly targets: readonly PolicyTarget[];
  /** `<target key>|<plugin kind>` where an older policy of the same scope won (GEP-713 Conflicted). */
  readonly conflicted: Set<string>;
}

export interface PolicyIndex {
  readonly policies: readonly PolicyInfo[];
  /** Target key → policies targeting it, oldest first. */
  readonly byTarget: ReadonlyMap<string, readonly PolicyInfo[]>;
  /** `<Kind>/<ns>/<name>` → policy, for ExtensionRef. */
  readonly byName: ReadonlyMap<string, PolicyInfo>;
  readonly consumers: readonly ConsumerInfo[];
  /** Plugin order on a route (higher first). */
  priority(pluginKind: string): number;
}

export function targetKey(kind: string, ns: string, name: string, section: string | undefined): string {
  return `${kind}/${ns}/${name}/${section ?? ''}`;
}

function byAge(a: PolicyInfo, b: PolicyInfo): number {
  return compareStrings(a.meta.creationTimestamp, b.meta.creationTimestamp) || compareStrings(a.meta.namespace, b.meta.namespace) ||
    compareStrings(a.meta.name, b.meta.name) || compareStrings(a.kind, b.kind);
}

export function buildPolicyIndex(graph: Graph, plugins: PluginValidators | undefined): PolicyIndex {
  const r = graph.resources;
  const consumers = resolveConsumers(graph, r.consumers ?? []);
  const policies: PolicyInfo[] = [];
  const lists: [PolicyKind, readonly unknown[]][] = [['TrafficPolicy', r.trafficPolicies ?? []], ['AuthPolicy', r.authPolicies ?? []]];
  for (const [kind, list] of lists) {
    for (const p of list) {
      const m = meta(p);
      if (m.name === '') continue;
      policies.push(buildPolicy(graph, kind, p, m, consumers, plugins));
    }
  }
  policies.sort(byAge);
  const byTarget = new Map<string, PolicyInfo[]>();
  const byName = new Map<string, PolicyInfo>();
  for (const p of policies) {
    byName.set(`${p.kind}/${p.meta.namespace}/${p.meta.name}`, p);
    for (const t of p.targets) {
      const l = byTarget.get(t.key);
      if (l === undefined) byTarget.set(t.key, [p]);
      else if (!l.includes(p)) l.push(p);
    }
  }
  // GEP-713: two policies setting the same thing on the same target conflict; the oldest wins.
  // "The same thing" is one plugin kind for one scope of consumers.
  for (const [tk, list] of byTarget) {
    const winner = new Map<string, PolicyInfo>();
    for (const p of list) {
      for (const f of p.features) {
        const scope = `${f.pluginKind}|${p.consumers?.join(',') ?? '*'}`;
        if (!winner.has(scope)) winner.set(scope, p);
        else p.conflicted.add(`${tk}|${f.pluginKind}`);
      }
    }
  }
  return { policies, byTarget, byName, consumers, priority: (k) => plugins?.priority(k) ?? 0 };
}

function buildPolicy(graph: Graph, kind: PolicyKind, p: unknown, m: Meta, consumers: readonly ConsumerInfo[], plugins: PluginValidators | undefined): PolicyInfo {
  const spec = obj(obj(p)?.spec) ?? {};
  const errors: FieldProblem[] = [];
  const targets: PolicyTarget[] = [];
  if (spec.targetRefs !== undefined && !Array.isArray(spec.targetRefs)) errors.push({ field: 'spec.targetRefs', message: 'must be a list' });
  for (const [t, i] of indexed(spec.targetRefs)) {
    const f = `spec.targetRefs[${i}]`;
    const group = str(t.group) ?? '';
    const tkind = str(t.kind) ?? '';
    const name = str(t.name) ?? '';
    const section = str(t.sectionName);
    if (group !== GATEWAY_GROUP || (tkind !== 'Gateway' && tkind !== 'HTTPRoute' && tkind !== 'GRPCRoute')) {
      errors.push({ field: f, message: `${group}/${tkind} is not a supported target (Gateway, HTTPRoute or GRPCRoute of ${GATEWAY_GROUP})` });
      continue;
    }
    if (name === '') {
      errors.push({ field: `${f}.name`, message: 'required' });
      continue;
    }
    targets.push({ index: i, kind: tkind, name, ...(section !== undefined ? { sectionName: section } : {}), key: targetKey(tkind, m.namespace, name, section) });
  }
  let scoped: string[] | undefined;
  if (spec.consumerRefs !== undefined) {
    if (kind === 'AuthPolicy') errors.push({ field: 'spec.consumerRefs', message: 'not allowed on an AuthPolicy (authentication decides the consumer)' });
    scoped = [];
    for (const [ref, i] of indexed(spec.consumerRefs)) {
      const name = str(ref.name) ?? '';
      const c = consumers.find((x) => x.meta.namespace === m.namespace && x.meta.name === name);
      if (c?.resolved === undefined) errors.push({ field: `spec.consumerRefs[${i}]`, message: c === undefined ? `Consumer "${name}" not found` : `Consumer "${name}" is invalid` });
      else if (!scoped.includes(c.resolved.username)) scoped.push(c.resolved.username);
    }
    scoped.sort(compareStrings);
    if (scoped.length === 0 && errors.length === 0) errors.push({ field: 'spec.consumerRefs', message: 'must name at least one Consumer' });
  }
  const selector = spec.consumerSelector;
  const visible = consumers
    .filter((c) => c.resolved !== undefined && c.meta.namespace === m.namespace && (selector === undefined || selectorMatches(selector, c.meta.labels)))
    .map((c) => c.resolved!);
  const features: PolicyFeature[] = [];
  const configs: unknown[] = [];
  const known = new Set([...COMMON_FIELDS, ...FEATURES[kind].map(([f]) => f)]);
  for (const k of Object.keys(spec)) if (!known.has(k)) errors.push({ field: `spec.${k}`, message: 'unknown field' });
  for (const [field, pluginKind] of FEATURES[kind]) {
    if (spec[field] === undefined) continue;
    const ctx: ValidateContext = {
      field: `spec.${field}`, namespace: m.namespace, consumers: visible,
      secret: (name) => secretData(graph, m.namespace, name),
    };
    const res = plugins?.validate(pluginKind, spec[field], ctx);
    if (res === undefined) errors.push({ field: `spec.${field}`, message: plugins === undefined ? 'plugins are not enabled in this FluxGate' : `no plugin handles ${pluginKind}` });
    else if (!res.ok) errors.push(...res.errors);
    features.push({ pluginKind, field: `spec.${field}`, id: `policy/${m.namespace}/${kind}/${m.name}/${field}`, config: undefined });
    configs.push(res?.ok ? res.config : undefined);
  }
  if (features.length === 0) errors.push({ field: 'spec', message: `set one of ${FEATURES[kind].map(([f]) => f).join(', ')}` });
  // Endpoint health is one state per backend, whoever calls: it cannot differ per consumer.
  if (scoped !== undefined && spec.healthCheck !== undefined) errors.push({ field: 'spec.healthCheck', message: 'not allowed together with consumerRefs (endpoint health is the same for every consumer)' });
  if (kind === 'AuthPolicy' && features.length > 1) errors.push({ field: 'spec', message: `set only one of ${FEATURES[kind].map(([f]) => f).join(', ')}` });
  const valid = errors.length === 0;
  return {
    kind, meta: m, errors, targets, conflicted: new Set(),
    ...(scoped !== undefined ? { consumers: scoped } : {}),
    features: features.map((f, i) => ({ ...f, config: valid ? configs[i] : undefined })),
  };
}
