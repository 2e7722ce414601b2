// Pure validation of `TrafficPolicy.spec.requestTransform` / `responseTransform` (Kong's
// request- and response-transformer, the parts that are not already Gateway API filters:
// query parameters, and header changes that policies can apply to many routes at once).
import { headerName, headerValueOk, obj, optStrings, Problems, type Obj } from '../core/read.ts';
import type { ValidateContext, ValidateResult } from '../types.ts';

export interface HeaderOps {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

export interface RequestTransformConfig {
  readonly headers: HeaderOps;
  readonly query: { readonly set: readonly (readonly [string, string])[]; readonly add: readonly (readonly [string, string])[]; readonly remove: readonly string[] };
}

export interface ResponseTransformConfig {
  readonly headers: HeaderOps;
}

function pairs(o: Obj, key: string, p: Problems, field: string, isHeader: boolean): [string, string][] {
  const out: [string, string][] = [];
  const v = o[key];
  if (v === undefined) return out;
  if (!Array.isArray(v)) {
    p.add(`${field}.${key}`, 'must be a list of {name, value}');
    return out;
  }
  v.forEach((e, i) => {
    const f = `${field}.${key}[${i}]`;
    const eo = obj(e);
    const name = typeof eo?.name === 'string' ? eo.name : '';
    const value = eo?.value;
    if (typeof value !== 'string' || !headerValueOk(value)) {
      p.add(`${f}.value`, 'required, without CR, LF or NUL');
      return;
    }
    if (isHeader) {
      const n = headerName(name, `${f}.name`, p);
      if (n !== undefined) out.push([n, value]);
    } else if (name === '' || /[&=#\s]/.test(name)) {
      p.add(`${f}.name`, 'must be a query parameter name without &, =, # or spaces');
    } else out.push([name, value]);
  });
  return out;
}

function ops(raw: unknown, field: string, p: Problems, isHeader: boolean): HeaderOps {
  const o = obj(raw) ?? {};
  if (raw !== undefined && obj(raw) === undefined) p.add(field, 'must be an object');
  const remove = (optStrings(o, 'remove', p, `${field}.remove`) ?? []).map((n, i) => (isHeader ? headerName(n, `${field}.remove[${i}]`, p) ?? n : n));
  for (const k of Object.keys(o)) if (!['set', 'add', 'remove'].includes(k)) p.add(`${field}.${k}`, 'unknown field');
  return { set: pairs(o, 'set', p, field, isHeader), add: pairs(o, 'add', p, field, isHeader), remove };
}

export function validateRequestTransform(raw: unknown, ctx: ValidateContext): ValidateResult {
  const p = new Problems(ctx.field);
  const o = obj(raw);
  if (o === undefined) return { ok: false, errors: [{ field: ctx.field, message: 'must be an object' }] };
  const headers = ops(o.headers, 'headers', p, true);
  const query = ops(o.query, 'query', p, false);
  for (const k of Object.keys(o)) if (!['headers', 'query'].includes(k)) p.add(k, 'unknown field');
  if (!p.ok) return { ok: false, errors: p.list };
  return { ok: true, config: { headers, query } satisfies RequestTransformConfig };
}

export function validateResponseTransform(raw: unknown, ctx: ValidateContext): ValidateResult {
  const p = new Problems(ctx.field);
  const o = obj(raw);
  if (o === undefined) return { ok: false, errors: [{ field: ctx.field, message: 'must be an object' }] };
  const headers = ops(o.headers, 'headers', p, true);
  for (const k of Object.keys(o)) if (k !== 'headers') p.add(k, 'unknown field');
  if (!p.ok) return { ok: false, errors: p.list };
  return { ok: true, config: { headers } satisfies ResponseTransformConfig };
}
