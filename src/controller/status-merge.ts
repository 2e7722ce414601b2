// Pure merge rules of the status writer: what we write given what the translator computed and
// what the object's status is now. lastTransitionTime changes only when a condition's status,
// reason or message did; route parents of other controllers are kept as they are.
import { GATEWAY_GROUP } from './kinds.ts';

export interface StampedCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

type Json = Record<string, unknown>;

/** metav1.Time: RFC 3339 with second precision, as the API server stores it. */
export function kubeTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Stamps `desired` conditions, keeping an existing lastTransitionTime when nothing changed. */
export function stampConditions(desired: unknown, existing: unknown, now: string): StampedCondition[] {
  const before = new Map<string, Json>();
  for (const c of asArray(existing)) if (typeof c.type === 'string') before.set(c.type, c);
  return asArray(desired).map((c) => {
    const old = before.get(String(c.type));
    const same = old !== undefined && old.status === c.status && old.reason === c.reason && old.message === c.message
      && typeof old.lastTransitionTime === 'string';
    return { ...c, lastTransitionTime: same ? (old.lastTransitionTime as string) : now } as StampedCondition;
  });
}

/** GatewayClass or Gateway status: we own all of it. Listener conditions match by name. */
export function mergeOwnedStatus(desired: unknown, existing: unknown, now: string): Json {
  const d = asObject(desired);
  const e = asObject(existing);
  const out: Json = { ...d, conditions: stampConditions(d.conditions, e.conditions, now) };
  if (Array.isArray(d.listeners)) {
    const oldListeners = new Map(asArray(e.listeners).map((l) => [l.name, l]));
    out.listeners = asArray(d.listeners).map((l) => ({
      ...l, conditions: stampConditions(l.conditions, oldListeners.get(l.name)?.conditions, now),
    }));
  }
  return out;
}

/**
 * Route status: entries of other controllers stay untouched and in place; ours are replaced
 * by `desiredParents` (conditions stamped against our previous entry for the same parentRef).
 * `desiredParents` empty removes our entries, e.g. after a route left our Gateway.
 */
export function mergeRouteStatus(desiredParents: unknown, existing: unknown, controllerName: string, routeNamespace: string, now: string): Json {
  const e = asObject(existing);
  const ours = new Map<string, Json>();
  const others: Json[] = [];
  for (const p of asArray(e.parents)) {
    if (p.controllerName === controllerName) ours.set(parentKey(p.parentRef, routeNamespace), p);
    else others.push(p);
  }
  const mine = asArray(desiredParents).map((p) => ({
    ...p,
    controllerName,
    conditions: stampConditions(p.conditions, ours.get(parentKey(p.parentRef, routeNamespace))?.conditions, now),
  }));
  return { ...e, parents: [...others, ...mine] };
}

/**
 * fluxgate.io policy status (GEP-713 PolicyStatus): `ancestors` entries of other controllers
 * stay untouched and in place; ours are replaced by `desired.ancestors` (conditions stamped
 * against our previous entry for the same ancestorRef). The top-level `conditions` (FluxGate's
 * own, for policies used through ExtensionRef, and a Consumer's) are written only when
 * `withConditions`: a controller reports them for namespaces it serves, and leaves them alone
 * elsewhere, so controllers sharing a cluster do not take turns rewriting them.
 */
export function mergePolicyStatus(desired: unknown, existing: unknown, controllerName: string, withConditions: boolean, now: string): Json {
  const d = asObject(desired);
  const e = asObject(existing);
  const out: Json = { ...e };
  if (withConditions) out.conditions = stampConditions(d.conditions, e.conditions, now);
  if (d.ancestors !== undefined || e.ancestors !== undefined) {
    const ours = new Map<string, Json>();
    const others: Json[] = [];
    for (const a of asArray(e.ancestors)) {
      if (a.controllerName === controllerName) ours.set(ancestorKey(a.ancestorRef), a);
      else others.push(a);
    }
    const mine = asArray(d.ancestors).map((a) => ({
      ...a,
      controllerName,
      conditions: stampConditions(a.conditions, ours.get(ancestorKey(a.ancestorRef))?.conditions, now),
    }));
    out.ancestors = [...others, ...mine];
  }
  return out;
}

/** True when a policy status holds an ancestor entry written by `controllerName`. */
export function hasAncestorsOf(status: unknown, controllerName: string): boolean {
  return asArray(asObject(status).ancestors).some((a) => a.controllerName === controllerName);
}

function ancestorKey(ref: unknown): string {
  const r = asObject(ref);
  return JSON.stringify([r.group ?? GATEWAY_GROUP, r.kind ?? 'Gateway', r.namespace ?? '', r.name ?? '', r.sectionName ?? '', r.port ?? '']);
}

export function parentKey(ref: unknown, routeNamespace: string): string {
  const r = asObject(ref);
  return JSON.stringify([
    r.group ?? GATEWAY_GROUP, r.kind ?? 'Gateway', r.namespace ?? routeNamespace, r.name ?? '',
    r.sectionName ?? '', r.port ?? '',
  ]);
}

/**
 * Equality as the API server sees it: CRD defaults filled (a parentRef's group and kind, a
 * supportedKind's group), empty values dropped, key order ignored. Without this, a status the
 * server normalised would look changed on every rebuild and be rewritten forever.
 */
export function statusEqual(a: unknown, b: unknown): boolean {
  return canonical(normalise(a)) === canonical(normalise(b));
}

function normalise(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v, key === 'supportedKinds' ? 'supportedKind' : undefined));
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    out[k] = normalise(v, k);
  }
  if (key === 'parentRef' || key === 'ancestorRef') {
    out.group ??= GATEWAY_GROUP;
    out.kind ??= 'Gateway';
  }
  if (key === 'supportedKind') out.group ??= GATEWAY_GROUP;
  return out;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Json)[k])}`).join(',')}}`;
}

function asArray(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter((x): x is Json => typeof x === 'object' && x !== null) : [];
}

function asObject(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}
