// Defensive readers for plugin configs: configs come from user YAML, so validate() reads every
// value through these and collects problems with their field paths instead of throwing.
import type { FieldProblem } from '../types.ts';

export type Obj = Readonly<Record<string, unknown>>;

export function obj(x: unknown): Obj | undefined {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : undefined;
}

/** Collects problems; `at(field)` names a field relative to the config's own path. */
export class Problems {
  readonly list: FieldProblem[] = [];
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }
  at(field: string): string {
    return field === '' ? this.base : field.startsWith('[') ? `${this.base}${field}` : `${this.base}.${field}`;
  }
  add(field: string, message: string): void {
    this.list.push({ field: this.at(field), message });
  }
  get ok(): boolean {
    return this.list.length === 0;
  }
}

export function optString(o: Obj, key: string, p: Problems, field = key): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') {
    p.add(field, 'must be a non-empty string');
    return undefined;
  }
  return v;
}

export function optBool(o: Obj, key: string, p: Problems, field = key): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') {
    p.add(field, 'must be true or false');
    return undefined;
  }
  return v;
}

export function optInt(o: Obj, key: string, p: Problems, min: number, max: number, field = key): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    p.add(field, `must be an integer in ${min}-${max}`);
    return undefined;
  }
  return v;
}

export function optStrings(o: Obj, key: string, p: Problems, field = key): string[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((e) => typeof e !== 'string' || e === '')) {
    p.add(field, 'must be a list of non-empty strings');
    return undefined;
  }
  return v as string[];
}

export function oneOf<T extends string>(o: Obj, key: string, allowed: readonly T[], p: Problems, fallback: T): T {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    p.add(key, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    return fallback;
  }
  return v as T;
}

/** RFC 9110 token: what a header name may be. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function headerName(v: string, field: string, p: Problems): string | undefined {
  if (!TOKEN.test(v)) {
    p.add(field, `"${v}" is not a valid header name`);
    return undefined;
  }
  return v.toLowerCase();
}

export function headerValueOk(v: string): boolean {
  return !/[\r\n\0]/.test(v);
}
