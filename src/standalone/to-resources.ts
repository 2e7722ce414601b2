import { emptyResources, type Resources } from '../translate/resources.ts';
import type { ConfigError } from './config-error.ts';
import type { KindInfo } from './validate-document.ts';

/** A validated object and where it came from. */
export interface LocatedObject {
  readonly file: string;
  readonly document: number;
  readonly info: KindInfo;
  readonly object: Record<string, unknown>;
}

/**
 * Files have no creation time. Every object without one gets this same instant, so Gateway API
 * precedence, which breaks ties by age, falls through to its next rule: namespace and name.
 * (Deriving an age from document order would make one edit reorder unrelated routes.) Set
 * `metadata.creationTimestamp` to choose an order explicitly.
 */
export const DEFAULT_CREATION_TIMESTAMP = '2020-01-01T00:00:00Z';

type Meta = {
  name: string;
  namespace?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  [key: string]: unknown;
};

export interface ResourceBuilder {
  /**
   * Turns validated documents, file by file, into Resources the way the API server would store
   * them: namespace defaulted to `default`, generation 1, a creation timestamp, Secret
   * `stringData` folded into `data`, Namespace objects (with their `kubernetes.io/metadata.name`
   * label) for every namespace used; every list sorted by namespace then name. Duplicate objects
   * are errors (the first in file order is kept). The same validated object always yields the
   * same resource object, so unchanged documents stay identical across reloads, and a file
   * whose documents did not change (the same `located` array) is not looked at again.
   */
  build(files: readonly (readonly LocatedObject[])[]): { resources: Resources; errors: ConfigError[] };
}

/** A normalised object with what sorting and duplicate detection need, computed once. */
interface Prepared {
  readonly located: LocatedObject;
  readonly object: Record<string, unknown>;
  /** `namespace NUL name`: NUL sorts below every character of a name, so this orders like (namespace, name). */
  readonly sortKey: string;
  readonly namespace: string | undefined;
}

/** Prepares a changed file's objects; documents that did not change keep their objects (`byObject`). */
function prepare(located: readonly LocatedObject[], byObject: WeakMap<object, Prepared>): readonly Prepared[] {
  return located.map((l) => {
    const known = byObject.get(l.object);
    if (known !== undefined && known.located.file === l.file && known.located.document === l.document) return known;
    const object = known?.object ?? normalise(l);
    const meta = object.metadata as Meta;
    const p: Prepared = { located: l, object, sortKey: `${meta.namespace ?? ''}\0${meta.name}`, namespace: meta.namespace };
    byObject.set(l.object, p);
    return p;
  });
}

const bySortKey = (a: Prepared, b: Prepared): number => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0);

export function createResourceBuilder(): ResourceBuilder {
  let prepared = new WeakMap<readonly LocatedObject[], readonly Prepared[]>();
  // Per validated object, for the unchanged documents of a changed file (WeakMap: entries go
  // with the objects).
  const byObject = new WeakMap<object, Prepared>();
  let implicitNamespaces = new Map<string, Record<string, unknown>>();
  return {
    build(files) {
      const lists = new Map<string, Prepared[]>();
      const errors: ConfigError[] = [];
      const usedNamespaces = new Set<string>();
      const nextPrepared = new WeakMap<readonly LocatedObject[], readonly Prepared[]>();
      for (const located of files) {
        const ps = prepared.get(located) ?? prepare(located, byObject);
        nextPrepared.set(located, ps);
        for (const p of ps) {
          if (p.namespace !== undefined) usedNamespaces.add(p.namespace);
          const list = lists.get(p.located.info.list);
          if (list === undefined) lists.set(p.located.info.list, [p]);
          else list.push(p);
        }
      }
      prepared = nextPrepared;
      const out: Record<string, Record<string, unknown>[]> = {};
      for (const [name, list] of lists) {
        // Stable: among duplicates the first in file order comes first, and is the one kept.
        // Files are mostly sorted already, so this is close to one pass.
        list.sort(bySortKey);
        const objects: Record<string, unknown>[] = [];
        for (let i = 0; i < list.length; i++) {
          const p = list[i]!;
          const first = i > 0 && list[i - 1]!.sortKey === p.sortKey ? firstOf(list, i) : undefined;
          if (first !== undefined) {
            errors.push(duplicate(p, first));
            continue;
          }
          objects.push(p.object);
        }
        out[name] = objects;
      }
      const declared = new Set((out.namespaces ?? []).map((n) => (n.metadata as Meta).name));
      const nextImplicit = new Map<string, Record<string, unknown>>();
      const implicit: Record<string, unknown>[] = [];
      for (const name of [...usedNamespaces].sort()) {
        if (declared.has(name)) continue;
        const ns = implicitNamespaces.get(name) ?? {
          apiVersion: 'v1', kind: 'Namespace',
          metadata: { name, generation: 1, creationTimestamp: DEFAULT_CREATION_TIMESTAMP, labels: { 'kubernetes.io/metadata.name': name } },
        };
        nextImplicit.set(name, ns);
        implicit.push(ns);
      }
      implicitNamespaces = nextImplicit;
      if (implicit.length > 0) {
        out.namespaces = [...(out.namespaces ?? []), ...implicit].sort((a, b) => {
          const x = (a.metadata as Meta).name, y = (b.metadata as Meta).name;
          return x < y ? -1 : x > y ? 1 : 0;
        });
      }
      const resources = emptyResources() as unknown as Record<string, unknown>;
      for (const [name, objects] of Object.entries(out)) resources[name] = objects;
      return { resources: resources as unknown as Resources, errors };
    },
  };
}

/** The first object of the run of equal keys that ends at `i`. */
function firstOf(list: readonly Prepared[], i: number): Prepared {
  let j = i - 1;
  while (j > 0 && list[j - 1]!.sortKey === list[i]!.sortKey) j--;
  return list[j]!;
}

function duplicate(p: Prepared, first: Prepared): ConfigError {
  const meta = p.object.metadata as Meta;
  return {
    code: 'CONFIG_DUPLICATE', file: p.located.file, document: p.located.document, field: 'metadata.name',
    message: `${String(p.object.kind)} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name} is already defined in ${first.located.file} document ${first.located.document}`,
  };
}

function normalise(located: LocatedObject): Record<string, unknown> {
  const src = located.object;
  const meta = { ...(src.metadata as Meta) };
  if (located.info.namespaced) meta.namespace ??= 'default';
  else delete meta.namespace;
  meta.generation ??= 1;
  meta.creationTimestamp ??= DEFAULT_CREATION_TIMESTAMP;
  if (src.kind === 'Namespace') meta.labels = { ...meta.labels, 'kubernetes.io/metadata.name': meta.name };
  const object: Record<string, unknown> = { ...src, metadata: meta };
  return src.kind === 'Secret' ? foldStringData(object) : object;
}

/** The API server merges `stringData` into base64 `data` on write; do the same. */
function foldStringData(secret: Record<string, unknown>): Record<string, unknown> {
  const stringData = secret.stringData as Record<string, string> | undefined;
  if (stringData === undefined) return secret;
  const data: Record<string, string> = { ...(secret.data as Record<string, string> | undefined) };
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
  const { stringData: _dropped, ...rest } = secret;
  return { ...rest, data };
}
