// Indexes over the full state, built once per translate() so later stages look objects up by
// namespace and name instead of scanning lists.
import { RESOURCE_LISTS, type Resources, type Service, type Secret, type EndpointSlice, type Gateway, type GatewayClass, type ConfigMap } from './resources.ts';
import { canonicalJson } from './canonical-json.ts';
import { compareMeta, compareStrings, meta, obj, str } from './safe.ts';
import type { PolicyIndex } from './policies.ts';

export interface Graph {
  readonly resources: Resources;
  /** Names of GatewayClasses whose controllerName is ours. */
  readonly ourClasses: ReadonlySet<string>;
  readonly ourClassObjects: readonly GatewayClass[];
  /** Gateways whose class is ours, in input order (namespace, name). */
  readonly ourGateways: readonly Gateway[];
  readonly services: ReadonlyMap<string, Service>;
  readonly secrets: ReadonlyMap<string, Secret>;
  readonly configMaps: ReadonlyMap<string, ConfigMap>;
  /** EndpointSlices by `<ns>/<service name>` (label kubernetes.io/service-name). */
  readonly endpointSlices: ReadonlyMap<string, readonly EndpointSlice[]>;
  /** Namespace labels, including the implicit kubernetes.io/metadata.name. */
  namespaceLabels(ns: string): Readonly<Record<string, string>>;
  /** fluxgate.io policies and consumers, validated by the plugins (set by translate()). */
  readonly policies?: PolicyIndex;
}

export const key = (ns: string, name: string): string => `${ns}/${name}`;

function safeJson(x: unknown): string {
  try {
    return canonicalJson(x) ?? '';
  } catch {
    return '';
  }
}

/**
 * Objects of each list, sorted by namespace and name, with at most one object per namespace
 * and name. The API server never holds two; files might. Ties are broken by content so the
 * survivor does not depend on input order.
 */
function list<T>(x: unknown, hint?: readonly unknown[]): readonly T[] {
  if (!Array.isArray(x)) return [];
  if (sortedAndUnique(x, hint)) return x as T[];
  const items = x.filter((e) => obj(e) !== undefined).map((o) => ({ o, m: meta(o), json: undefined as string | undefined }));
  const content = (i: (typeof items)[number]): string => (i.json ??= safeJson(i.o));
  items.sort((a, b) => compareStrings(a.m.namespace, b.m.namespace) || compareStrings(a.m.name, b.m.name) || compareStrings(content(a), content(b)));
  const out: T[] = [];
  for (let i = 0; i < items.length; i++) {
    const prev = items[i - 1];
    if (prev && prev.m.namespace === items[i]!.m.namespace && prev.m.name === items[i]!.m.name) continue;
    out.push(items[i]!.o as T);
  }
  return out;
}

/**
 * The common case, front ends already sort: every element an object, strictly increasing by
 * namespace then name. One pass of comparisons instead of a sort with copies. With `hint`, a
 * list that passed this check before (the previous call's), elements that are the same
 * objects in the same relative order are known to be in order: only the elements around the
 * others are compared, so a list of 10,000 with one new element costs identity checks.
 */
function sortedAndUnique(x: readonly unknown[], hint: readonly unknown[] | undefined): boolean {
  let j = 0;
  let prevKnown = false;
  for (let i = 0; i < x.length; i++) {
    const e = x[i];
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return false;
    if (hint !== undefined && j < hint.length && hint[j] === e) {
      // Two elements matched in the hint, in order, are in order; else compare.
      if (!prevKnown && i > 0 && compareMeta(meta(x[i - 1]), meta(e)) >= 0) return false;
      prevKnown = true;
      j++;
      continue;
    }
    const m = meta(e);
    if (i > 0 && compareMeta(meta(x[i - 1]), m) >= 0) return false;
    if (hint !== undefined) while (j < hint.length && compareMeta(meta(hint[j]), m) <= 0) j++;
    prevKnown = false;
  }
  return true;
}

// Fails to type-check when Resources gains a list that RESOURCE_LISTS does not name.
const LISTS_COMPLETE: Exclude<keyof Resources, (typeof RESOURCE_LISTS)[number]> extends never ? true : never = true;
void LISTS_COMPLETE;

/** Lists a previous sanitize() took as they were, by key: they make the next check cheaper. */
export type SanitizeHints = ReadonlyMap<string, readonly unknown[]>;

/**
 * Resources whose lists are arrays of objects, sorted and without duplicates, whatever the
 * caller passed (front ends sort, but output must not depend on input order). `hints` (from
 * the previous call's `nextHints`) only make it faster.
 */
export function sanitize(r: unknown, hints?: SanitizeHints): { resources: Resources; nextHints: SanitizeHints } {
  const o = obj(r) ?? {};
  const out: Record<string, readonly unknown[]> = {};
  const nextHints = new Map<string, readonly unknown[]>();
  for (const k of RESOURCE_LISTS) {
    const x = o[k];
    const l = list(x, hints?.get(k));
    out[k] = l;
    if (l === x) nextHints.set(k, l);
  }
  return { resources: out as unknown as Resources, nextHints };
}

export function buildGraph(resources: Resources, controllerName: string): Graph {
  const ourClassObjects = resources.gatewayClasses.filter(
    (c) => str(obj(obj(c)?.spec)?.controllerName) === controllerName && meta(c).name !== '');
  const ourClasses = new Set(ourClassObjects.map((c) => meta(c).name));
  const ourGateways = resources.gateways.filter((g) => {
    const cls = str(obj(obj(g)?.spec)?.gatewayClassName);
    return cls !== undefined && ourClasses.has(cls) && meta(g).name !== '';
  });
  const byKey = <T>(items: readonly T[]): Map<string, T> => {
    const m = new Map<string, T>();
    for (const i of items) {
      const { namespace, name } = meta(i);
      if (name !== '' && !m.has(key(namespace, name))) m.set(key(namespace, name), i);
    }
    return m;
  };
  const endpointSlices = new Map<string, EndpointSlice[]>();
  for (const s of resources.endpointSlices) {
    const m = meta(s);
    const svc = m.labels['kubernetes.io/service-name'];
    if (svc === undefined) continue;
    const k = key(m.namespace, svc);
    const l = endpointSlices.get(k);
    if (l) l.push(s); else endpointSlices.set(k, [s]);
  }
  const nsLabels = new Map<string, Record<string, string>>();
  for (const n of resources.namespaces) {
    // Namespaces are cluster-scoped: the name is the namespace.
    const name = str(obj(obj(n)?.metadata)?.name);
    if (name !== undefined && !nsLabels.has(name)) nsLabels.set(name, { ...meta(n).labels, 'kubernetes.io/metadata.name': name });
  }
  return {
    resources, ourClasses, ourClassObjects, ourGateways,
    services: byKey(resources.services), secrets: byKey(resources.secrets), endpointSlices,
    configMaps: byKey(resources.configMaps ?? []),
    namespaceLabels(ns) {
      // Standalone configs often omit Namespace objects; the API server always sets this label.
      return nsLabels.get(ns) ?? { 'kubernetes.io/metadata.name': ns };
    },
  };
}
