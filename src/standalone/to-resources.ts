import { RESOURCE_LISTS, type Resources } from '../translate/resources.ts';
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

/** Shared by every list without objects. */
const NONE: readonly Record<string, unknown>[] = Object.freeze([]);

const bySortKey = (a: Prepared, b: Prepared): number => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0);

/** A valid build (no duplicates), kept to patch the next one. */
interface Built {
  /** The files' located arrays, each with its prepared objects. */
  readonly files: ReadonlyMap<readonly LocatedObject[], readonly Prepared[]>;
  /** Per list: prepared objects sorted by key (no duplicates) and the objects in that order. */
  readonly sorted: ReadonlyMap<string, readonly Prepared[]>;
  readonly objects: ReadonlyMap<string, readonly Record<string, unknown>[]>;
  /** Objects per namespace: the implicit Namespace objects follow from it. */
  readonly namespaceUse: ReadonlyMap<string, number>;
  readonly resources: Resources;
}

export function createResourceBuilder(): ResourceBuilder {
  // Per file (its located array, the same object while the file is unchanged).
  const prepared = new WeakMap<readonly LocatedObject[], readonly Prepared[]>();
  const prepareFile = (located: readonly LocatedObject[]): readonly Prepared[] => {
    let ps = prepared.get(located);
    if (ps === undefined) prepared.set(located, (ps = prepare(located, byObject)));
    return ps;
  };
  // Per validated object, for the unchanged documents of a changed file (WeakMap: entries go
  // with the objects).
  const byObject = new WeakMap<object, Prepared>();
  let implicitNamespaces = new Map<string, Record<string, unknown>>();
  let last: Built | undefined;

  function implicit(namespaceUse: ReadonlyMap<string, number>, declared: readonly Record<string, unknown>[]): Record<string, unknown>[] {
    const names = new Set(declared.map((n) => (n.metadata as Meta).name));
    const next = new Map<string, Record<string, unknown>>();
    for (const name of [...namespaceUse.keys()].sort()) {
      if (names.has(name)) continue;
      next.set(name, implicitNamespaces.get(name) ?? {
        apiVersion: 'v1', kind: 'Namespace',
        metadata: { name, generation: 1, creationTimestamp: DEFAULT_CREATION_TIMESTAMP, labels: { 'kubernetes.io/metadata.name': name } },
      });
    }
    implicitNamespaces = next;
    return [...next.values()];
  }

  function assemble(objects: ReadonlyMap<string, readonly Record<string, unknown>[]>, namespaceUse: ReadonlyMap<string, number>): Resources {
    const resources: Record<string, unknown> = {};
    for (const name of RESOURCE_LISTS) resources[name] = objects.get(name) ?? NONE;
    const extra = implicit(namespaceUse, objects.get('namespaces') ?? []);
    if (extra.length > 0) {
      resources.namespaces = [...(objects.get('namespaces') ?? []), ...extra].sort((a, b) => {
        const x = (a.metadata as Meta).name, y = (b.metadata as Meta).name;
        return x < y ? -1 : x > y ? 1 : 0;
      });
    }
    return resources as unknown as Resources;
  }

  function full(files: readonly (readonly LocatedObject[])[]): { resources: Resources; errors: ConfigError[] } {
    const lists = new Map<string, Prepared[]>();
    const errors: ConfigError[] = [];
    const namespaceUse = new Map<string, number>();
    const fileMap = new Map<readonly LocatedObject[], readonly Prepared[]>();
    for (const located of files) {
      const ps = prepareFile(located);
      fileMap.set(located, ps);
      for (const p of ps) {
        if (p.namespace !== undefined) namespaceUse.set(p.namespace, (namespaceUse.get(p.namespace) ?? 0) + 1);
        const list = lists.get(p.located.info.list);
        if (list === undefined) lists.set(p.located.info.list, [p]);
        else list.push(p);
      }
    }
    const sorted = new Map<string, readonly Prepared[]>();
    const objects = new Map<string, readonly Record<string, unknown>[]>();
    for (const [name, list] of lists) {
      // Stable: among duplicates the first in file order comes first, and is the one kept.
      list.sort(bySortKey);
      const kept: Prepared[] = [];
      for (let i = 0; i < list.length; i++) {
        const p = list[i]!;
        if (i > 0 && list[i - 1]!.sortKey === p.sortKey) errors.push(duplicate(p, firstOf(list, i)));
        else kept.push(p);
      }
      sorted.set(name, kept);
      objects.set(name, kept.map((p) => p.object));
    }
    const resources = assemble(objects, namespaceUse);
    last = errors.length === 0 ? { files: fileMap, sorted, objects, namespaceUse, resources } : undefined;
    return { resources, errors };
  }

  /**
   * The previous build with the changed files' objects taken out and put back in: binary
   * searches and splices on copies of the touched lists. Undefined where a full build must
   * decide (a duplicate appears: its error names the first definition in file order).
   */
  function patch(prev: Built, files: readonly (readonly LocatedObject[])[]): { resources: Resources; errors: ConfigError[] } | undefined {
    const fileMap = new Map<readonly LocatedObject[], readonly Prepared[]>();
    const added: Prepared[] = [];
    for (const located of files) {
      let ps = prev.files.get(located);
      if (ps === undefined) {
        ps = prepareFile(located);
        for (const p of ps) added.push(p);
      }
      fileMap.set(located, ps);
    }
    const removed: Prepared[] = [];
    for (const [located, ps] of prev.files) if (!fileMap.has(located)) for (const p of ps) removed.push(p);
    if (added.length === 0 && removed.length === 0 && fileMap.size === prev.files.size) return { resources: prev.resources, errors: [] };

    const sorted = new Map(prev.sorted);
    const objects = new Map(prev.objects);
    const namespaceUse = new Map(prev.namespaceUse);
    const copy = (name: string): { ps: Prepared[]; os: Record<string, unknown>[] } => {
      const ps = sorted.get(name);
      const os = objects.get(name);
      if (ps !== undefined && ps !== prev.sorted.get(name)) return { ps: ps as Prepared[], os: os as Record<string, unknown>[] };
      const fresh = { ps: [...(ps ?? [])], os: [...(os ?? [])] };
      sorted.set(name, fresh.ps);
      objects.set(name, fresh.os);
      return fresh;
    };
    for (const p of removed) {
      const { ps, os } = copy(p.located.info.list);
      const i = lowerBound(ps, p.sortKey);
      if (ps[i] !== p) return undefined; // not where it should be: let a full build decide
      ps.splice(i, 1);
      os.splice(i, 1);
      if (p.namespace !== undefined) {
        const n = namespaceUse.get(p.namespace)! - 1;
        if (n === 0) namespaceUse.delete(p.namespace);
        else namespaceUse.set(p.namespace, n);
      }
    }
    for (const p of added) {
      const { ps, os } = copy(p.located.info.list);
      const i = lowerBound(ps, p.sortKey);
      if (i < ps.length && ps[i]!.sortKey === p.sortKey) return undefined; // a duplicate
      ps.splice(i, 0, p);
      os.splice(i, 0, p.object);
      if (p.namespace !== undefined) namespaceUse.set(p.namespace, (namespaceUse.get(p.namespace) ?? 0) + 1);
    }
    const resources = assemble(objects, namespaceUse);
    last = { files: fileMap, sorted, objects, namespaceUse, resources };
    return { resources, errors: [] };
  }

  return {
    build(files) {
      return (last === undefined ? undefined : patch(last, files)) ?? full(files);
    },
  };
}

/** First position in `ps` (sorted by key) whose key is not below `key`. */
function lowerBound(ps: readonly Prepared[], key: string): number {
  let lo = 0, hi = ps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ps[mid]!.sortKey < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
