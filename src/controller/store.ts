// The controller's copy of the cluster: every watched object keyed by kind/namespace/name. The
// store knows whether an event changed anything the translator reads; relevance (relevance.ts)
// then decides whether that change matters to us.
import { sortResources } from '../translate/resources.ts';
import type { Resources } from '../translate/resources.ts';
import { WATCHED_KINDS } from './kinds.ts';
import type { ResourceList } from './kinds.ts';

export interface KubeMetadata {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  managedFields?: unknown;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: KubeMetadata;
  [key: string]: unknown;
}

export interface StoreChange {
  readonly kind: string;
  readonly key: string;
  readonly old: KubeObject | undefined;
  readonly new: KubeObject | undefined;
}

export interface Store {
  /** Applies a watch event; returns the change, or undefined when nothing we read changed. */
  apply(kind: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): StoreChange | undefined;
  /** Replaces every object of `kind` (after a list); returns what changed. */
  replace(kind: string, items: readonly KubeObject[]): StoreChange[];
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(kind: string): readonly KubeObject[];
  /** The full state for the translator, sorted; cached until the next change. */
  snapshot(): Resources;
  /** Increments on every change the store reports. */
  generation(): number;
}

interface Entry {
  readonly object: KubeObject;
  /** What the translator can see of the object: everything but bookkeeping and status. */
  readonly fingerprint: string;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function objectKey(kind: string, namespace: string | undefined, name: string | undefined): string {
  return `${kind}/${namespace ?? ''}/${name ?? ''}`;
}

/**
 * Drops what nobody downstream reads but costs memory: managedFields and kubectl's
 * last-applied annotation (a full second copy of the object).
 */
export function slim(object: KubeObject): KubeObject {
  const metadata = object.metadata;
  if (metadata === undefined) return object;
  if (metadata.managedFields === undefined && metadata.annotations?.[LAST_APPLIED] === undefined) return object;
  const { managedFields: _managedFields, ...rest } = metadata;
  const out: KubeMetadata = { ...rest };
  if (metadata.annotations?.[LAST_APPLIED] !== undefined) {
    const { [LAST_APPLIED]: _lastApplied, ...annotations } = metadata.annotations;
    out.annotations = annotations;
  }
  return { ...object, metadata: out };
}

/**
 * Status and resourceVersion are left out (except a Service's status): the translator never
 * reads status, and our own status writes must not trigger a rebuild (that would loop once per
 * write).
 */
export function fingerprint(object: KubeObject): string {
  const { status, metadata, ...rest } = object;
  // A Service's status holds its load-balancer addresses, which a Gateway reports in-cluster.
  if (object.kind === 'Service' && status !== undefined) rest.status = status;
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = metadata ?? {};
  return JSON.stringify([meta, rest]);
}

export function createStore(): Store {
  const byKind = new Map<string, Map<string, Entry>>();
  for (const k of WATCHED_KINDS) byKind.set(k.kind, new Map());
  let gen = 0;
  let cached: { gen: number; resources: Resources } | undefined;

  const bucket = (kind: string): Map<string, Entry> => {
    let b = byKind.get(kind);
    if (b === undefined) {
      b = new Map();
      byKind.set(kind, b);
    }
    return b;
  };

  function put(kind: string, object: KubeObject): StoreChange | undefined {
    const slimmed = slim(object);
    const key = objectKey(kind, slimmed.metadata?.namespace, slimmed.metadata?.name);
    const b = bucket(kind);
    const before = b.get(key);
    const entry = { object: slimmed, fingerprint: fingerprint(slimmed) };
    b.set(key, entry);
    // The newest object is always kept (the status writer needs its status and
    // resourceVersion), but only a visible difference counts as a change.
    if (before !== undefined && before.fingerprint === entry.fingerprint) return undefined;
    gen++;
    return { kind, key, old: before?.object, new: slimmed };
  }

  function remove(kind: string, key: string): StoreChange | undefined {
    const b = bucket(kind);
    const before = b.get(key);
    if (before === undefined) return undefined;
    b.delete(key);
    gen++;
    return { kind, key, old: before.object, new: undefined };
  }

  return {
    apply(kind, type, object) {
      if (type === 'DELETED') return remove(kind, objectKey(kind, object.metadata?.namespace, object.metadata?.name));
      return put(kind, object);
    },
    replace(kind, items) {
      const changes: StoreChange[] = [];
      const seen = new Set<string>();
      for (const item of items) {
        seen.add(objectKey(kind, item.metadata?.namespace, item.metadata?.name));
        const c = put(kind, item);
        if (c !== undefined) changes.push(c);
      }
      for (const key of [...bucket(kind).keys()]) {
        if (seen.has(key)) continue;
        const c = remove(kind, key);
        if (c !== undefined) changes.push(c);
      }
      return changes;
    },
    get: (kind, namespace, name) => byKind.get(kind)?.get(objectKey(kind, namespace, name))?.object,
    list: (kind) => [...(byKind.get(kind)?.values() ?? [])].map((e) => e.object),
    snapshot() {
      if (cached?.gen === gen) return cached.resources;
      const lists: Partial<Record<ResourceList, KubeObject[]>> = {};
      for (const k of WATCHED_KINDS) lists[k.list] = [...(byKind.get(k.kind)?.values() ?? [])].map((e) => e.object);
      const resources = Object.freeze(sortResources(lists as unknown as Resources));
      cached = { gen, resources };
      return resources;
    },
    generation: () => gen,
  };
}
