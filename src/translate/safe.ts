// Defensive readers for untrusted input. The front ends do not guarantee that objects match
// their types (a YAML file can hold anything), and translate() must never throw, so every read
// of user data goes through these.

export type Obj = Readonly<Record<string, unknown>>;

export function obj(x: unknown): Obj | undefined {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : undefined;
}

/** The objects of a list; anything that is not an array reads as empty. */
export function objs(x: unknown): Obj[] {
  if (!Array.isArray(x)) return [];
  const out: Obj[] = [];
  for (const e of x) {
    const o = obj(e);
    if (o) out.push(o);
  }
  return out;
}

/** Like objs, but keeps the original index of each entry, for field paths in messages. */
export function indexed(x: unknown): [Obj, number][] {
  if (!Array.isArray(x)) return [];
  const out: [Obj, number][] = [];
  x.forEach((e, i) => {
    const o = obj(e);
    if (o) out.push([o, i]);
  });
  return out;
}

export function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}

export function strs(x: unknown): string[] {
  return Array.isArray(x) ? x.filter((e): e is string => typeof e === 'string') : [];
}

export function int(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isSafeInteger(x) ? x : undefined;
}

export function bool(x: unknown): boolean | undefined {
  return typeof x === 'boolean' ? x : undefined;
}

export interface Meta {
  readonly namespace: string;
  readonly name: string;
  readonly generation?: number;
  /** RFC 3339 creation time, '' when absent (sorts first, like the oldest object). */
  readonly creationTimestamp: string;
  readonly labels: Readonly<Record<string, string>>;
}

// meta() is asked of the same objects many times per translation and across translations;
// inputs are immutable, so the answer for an object never changes.
const metaMemo = new WeakMap<object, Meta>();

export function meta(o: unknown): Meta {
  if (typeof o !== 'object' || o === null) return computeMeta(o);
  let m = metaMemo.get(o);
  if (m === undefined) {
    m = computeMeta(o);
    metaMemo.set(o, m);
  }
  return m;
}

function computeMeta(o: unknown): Meta {
  const m = obj(obj(o)?.metadata);
  // No prototype: a label named __proto__ or toString must read as data.
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  const rawLabels = obj(m?.labels);
  if (rawLabels) for (const [k, v] of Object.entries(rawLabels)) if (typeof v === 'string') labels[k] = v;
  const ts = m?.creationTimestamp;
  return {
    namespace: str(m?.namespace) ?? 'default',
    name: str(m?.name) ?? '',
    generation: int(m?.generation),
    // YAML and client libraries may give a Date; ISO strings of both sort chronologically.
    creationTimestamp: typeof ts === 'string' ? ts : ts instanceof Date && !Number.isNaN(ts.getTime()) ? ts.toISOString() : '',
    labels,
  };
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The order of Resources lists: namespace, then name. */
export function compareMeta(a: Meta, b: Meta): number {
  return compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name);
}

/** A value for a message: never throws, whatever the value (objects with hostile toString). */
export function show(x: unknown): string {
  if (typeof x === 'string') return x;
  try {
    const j = JSON.stringify(x);
    return j === undefined ? typeof x : j.length > 100 ? `${j.slice(0, 100)}...` : j;
  } catch {
    return typeof x;
  }
}
