// Status of fluxgate.io objects. Policies get GEP-713 PolicyStatus: one entry per ancestor
// (the Gateway a target belongs to) with Accepted True, or False with reason Invalid,
// Conflicted or TargetNotFound. A policy used only through ExtensionRef has no ancestors, so
// every policy also carries a top-level Accepted condition. Consumers get Accepted and
// ResolvedRefs (their credential Secrets).
import { condition, mergeConditions, type ConditionInput } from '../status/index.ts';
import type { Graph } from './graph.ts';
import { key } from './graph.ts';
import { POLICY_API_VERSION, type PolicyIndex, type PolicyInfo, type PolicyTarget } from './policies.ts';
import { GATEWAY_GROUP } from './reference-grants.ts';
import { compareStrings, indexed, meta, obj, str } from './safe.ts';
import type { ObjectStatus } from './types.ts';

type Reason = 'Accepted' | 'Invalid' | 'Conflicted' | 'TargetNotFound';

interface AncestorDraft {
  readonly ref: Record<string, string>;
  readonly reasons: { reason: Reason; message: string }[];
}

function ancestorKey(ref: Record<string, string>): string {
  return `${ref.namespace}/${ref.name}/${ref.sectionName ?? ''}`;
}

function gatewayRef(ns: string, name: string, section?: string): Record<string, string> {
  return { group: GATEWAY_GROUP, kind: 'Gateway', namespace: ns, name, ...(section !== undefined ? { sectionName: section } : {}) };
}

/** Gateways of ours that a route names in its parentRefs. */
function routeGateways(graph: Graph, t: PolicyTarget, ns: string): { ref: Record<string, string>[]; exists: boolean; ruleFound: boolean } {
  const list = t.kind === 'HTTPRoute' ? graph.resources.httpRoutes : graph.resources.grpcRoutes;
  const route = list.find((r) => meta(r).namespace === ns && meta(r).name === t.name);
  if (route === undefined) return { ref: [], exists: false, ruleFound: false };
  const spec = obj(obj(route)?.spec) ?? {};
  const ruleFound = t.sectionName === undefined || indexed(spec.rules).some(([r]) => str(r.name) === t.sectionName);
  const ours = new Set(graph.ourGateways.map((g) => key(meta(g).namespace, meta(g).name)));
  const refs: Record<string, string>[] = [];
  for (const [p] of indexed(spec.parentRefs)) {
    if ((str(p.group) ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (str(p.kind) ?? 'Gateway') !== 'Gateway') continue;
    const gns = str(p.namespace) ?? ns, name = str(p.name) ?? '';
    if (ours.has(key(gns, name)) && !refs.some((r) => r.namespace === gns && r.name === name)) refs.push(gatewayRef(gns, name));
  }
  return { ref: refs, exists: true, ruleFound };
}

function policyStatus(graph: Graph, p: PolicyInfo, controllerName: string): ObjectStatus {
  const ns = p.meta.namespace;
  const drafts = new Map<string, AncestorDraft>();
  const add = (ref: Record<string, string>, reason: Reason, message: string): void => {
    const k = ancestorKey(ref);
    let d = drafts.get(k);
    if (d === undefined) drafts.set(k, (d = { ref, reasons: [] }));
    d.reasons.push({ reason, message });
  };
  const invalid = p.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  for (const t of p.targets) {
    const field = `spec.targetRefs[${t.index}]`;
    const conflicts = p.features.filter((f) => p.conflicted.has(`${t.key}|${f.pluginKind}`)).map((f) => f.field);
    const verdict = (ref: Record<string, string>): void => {
      if (invalid !== '') add(ref, 'Invalid', invalid);
      else if (conflicts.length > 0 && conflicts.length === p.features.length) add(ref, 'Conflicted', `${field}: an older policy sets ${conflicts.join(', ')} on this target`);
      else add(ref, 'Accepted', conflicts.length > 0 ? `Policy is accepted; ${conflicts.join(', ')} conflicted with an older policy on ${field}` : 'Policy is accepted');
    };
    if (t.kind === 'Gateway') {
      const gw = graph.ourGateways.find((g) => meta(g).namespace === ns && meta(g).name === t.name);
      const ref = gatewayRef(ns, t.name, t.sectionName);
      if (gw === undefined) add(ref, 'TargetNotFound', `${field}: Gateway "${t.name}" not found (or not of this controller)`);
      else if (t.sectionName !== undefined && !indexed(obj(obj(gw)?.spec)?.listeners).some(([l]) => str(l.name) === t.sectionName)) {
        add(ref, 'TargetNotFound', `${field}: Gateway "${t.name}" has no listener "${t.sectionName}"`);
      } else verdict(ref);
      continue;
    }
    const r = routeGateways(graph, t, ns);
    const self = { group: GATEWAY_GROUP, kind: t.kind, namespace: ns, name: t.name, ...(t.sectionName !== undefined ? { sectionName: t.sectionName } : {}) };
    if (!r.exists) add(self, 'TargetNotFound', `${field}: ${t.kind} "${t.name}" not found`);
    else if (!r.ruleFound) add(self, 'TargetNotFound', `${field}: ${t.kind} "${t.name}" has no rule named "${t.sectionName}"`);
    else if (r.ref.length === 0) add(self, 'TargetNotFound', `${field}: ${t.kind} "${t.name}" is not attached to a Gateway of this controller`);
    else for (const ref of r.ref) verdict(ref);
  }
  const gen = p.meta.generation;
  const cond = (reasons: readonly { reason: Reason; message: string }[]): ConditionInput => {
    const ok = reasons.find((x) => x.reason === 'Accepted');
    if (ok !== undefined) return condition('Accepted', 'True', 'Accepted', ok.message);
    const first = reasons[0]!;
    return condition('Accepted', 'False', first.reason, reasons.map((x) => x.message).join('; '));
  };
  const ancestors = [...drafts.values()]
    .sort((a, b) => compareStrings(ancestorKey(a.ref), ancestorKey(b.ref)) || compareStrings(a.ref.kind!, b.ref.kind!))
    .map((d) => ({ ancestorRef: d.ref, controllerName, conditions: mergeConditions([cond(d.reasons)], gen) }));
  const top = invalid !== '' ? condition('Accepted', 'False', 'Invalid', invalid) : condition('Accepted', 'True', 'Accepted', 'Policy is accepted');
  return { apiVersion: POLICY_API_VERSION, kind: p.kind, namespace: ns, name: p.meta.name, status: { ancestors, conditions: mergeConditions([top], gen) } };
}

export function policyStatuses(graph: Graph, index: PolicyIndex, controllerName: string): ObjectStatus[] {
  const out = index.policies.map((p) => policyStatus(graph, p, controllerName));
  for (const c of index.consumers) {
    const gen = c.meta.generation;
    const conditions: ConditionInput[] = [condition('Accepted', 'True', 'Accepted', 'Consumer is accepted'), condition('ResolvedRefs', 'True', 'ResolvedRefs', 'All references are resolved')];
    if (c.resolved === undefined) conditions.push(condition('Accepted', 'False', 'Invalid', c.errors.join('; ')));
    else if (c.errors.length > 0) conditions.push(condition('ResolvedRefs', 'False', 'InvalidCredentials', c.errors.join('; ')));
    out.push({ apiVersion: POLICY_API_VERSION, kind: 'Consumer', namespace: c.meta.namespace, name: c.meta.name, status: { conditions: mergeConditions(conditions, gen) } });
  }
  return out;
}
