// HTTPRoute and GRPCRoute matches → IR RouteMatch. A match that cannot be compiled (bad path,
// bad regex, unknown type) makes its rule invalid; the message names the field.
import type { KeyValueMatch, RouteMatch, StringMatchType } from '../ir/index.ts';
import { indexed, obj, str, type Obj, show } from './safe.ts';

export type RegexCheck = (pattern: string) => string | undefined;
export type MatchResult = { readonly ok: true; readonly match: RouteMatch } | { readonly ok: false; readonly error: string };

/** Gateway API: a rule without matches matches every request, as PathPrefix "/". */
export const DEFAULT_MATCH: RouteMatch = { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] };

/** RFC 9110 token: header names and methods. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Never lets a throwing validator escape: a validator crash is a bad regex, not a crash. */
export function checkRegex(validate: RegexCheck, pattern: string): string | undefined {
  try {
    const r = validate(pattern);
    return typeof r === 'string' ? r || 'invalid regular expression' : undefined;
  } catch (e) {
    return e instanceof Error ? e.message : 'invalid regular expression';
  }
}

/**
 * Header or query parameter matches. Gateway API: when several entries name the same header
 * (case-insensitively) or query parameter (case-sensitively), only the first is considered.
 */
function keyValueMatches(list: unknown, field: string, lowerCase: boolean, validate: RegexCheck): KeyValueMatch[] | string {
  const out: KeyValueMatch[] = [];
  const seen = new Set<string>();
  for (const [m, i] of indexed(list)) {
    const f = `${field}[${i}]`;
    const type = str(m.type) ?? 'Exact';
    const rawName = str(m.name) ?? '';
    const value = str(m.value);
    if (rawName === '' || (lowerCase && !TOKEN.test(rawName))) return `${f}.name: "${rawName}" is not a valid name`;
    if (value === undefined) return `${f}.value: required`;
    if (type !== 'Exact' && type !== 'RegularExpression') return `${f}.type: ${type} is not supported`;
    if (type === 'RegularExpression') {
      const err = checkRegex(validate, value);
      if (err !== undefined) return `${f}.value: invalid regular expression: ${err}`;
    }
    const name = lowerCase ? rawName.toLowerCase() : rawName;
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ type: type as StringMatchType, name, value });
  }
  return out;
}

export function buildHttpMatch(m: Obj, field: string, validate: RegexCheck): MatchResult {
  const path = obj(m.path);
  const type = str(path?.type) ?? 'PathPrefix';
  let value = str(path?.value) ?? '/';
  if (type === 'Exact' || type === 'PathPrefix') {
    if (!value.startsWith('/')) return { ok: false, error: `${field}.path.value: "${value}" must start with "/"` };
    if (/[?#]/.test(value)) return { ok: false, error: `${field}.path.value: "${value}" must not contain "?" or "#"` };
    // Gateway API: a PathPrefix matches whole segments; a trailing slash is ignored.
    if (type === 'PathPrefix' && value.length > 1) value = value.replace(/\/+$/, '') || '/';
  } else if (type === 'RegularExpression') {
    const err = checkRegex(validate, value);
    if (err !== undefined) return { ok: false, error: `${field}.path.value: invalid regular expression: ${err}` };
  } else {
    return { ok: false, error: `${field}.path.type: ${type} is not supported` };
  }
  const headers = keyValueMatches(m.headers, `${field}.headers`, true, validate);
  if (typeof headers === 'string') return { ok: false, error: headers };
  const queryParams = keyValueMatches(m.queryParams, `${field}.queryParams`, false, validate);
  if (typeof queryParams === 'string') return { ok: false, error: queryParams };
  const method = str(m.method);
  if (m.method !== undefined && (method === undefined || !TOKEN.test(method))) {
    return { ok: false, error: `${field}.method: ${show(m.method)} is not an HTTP method` };
  }
  const match: RouteMatch = { path: { type, value }, headers, queryParams };
  return { ok: true, match: method === undefined ? match : { ...match, method: method.toUpperCase() } };
}

const GRPC_NAME = /^[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/;
const GRPC_METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

/**
 * GRPCRoute match → path match on `/<service>/<method>` (gRPC over HTTP/2 puts both in the
 * :path). Exact with both → Exact path; service only → the `/<service>` segment prefix; method
 * only or RegularExpression → an anchored regular expression.
 */
export function buildGrpcMatch(m: Obj, field: string, validate: RegexCheck): MatchResult {
  const mm = obj(m.method);
  const type = str(mm?.type) ?? 'Exact';
  const service = str(mm?.service);
  const method = str(mm?.method);
  let path: RouteMatch['path'];
  if (mm === undefined || (service === undefined && method === undefined)) {
    path = { type: 'PathPrefix', value: '/' };
  } else if (type === 'Exact') {
    if (service !== undefined && !GRPC_NAME.test(service)) return { ok: false, error: `${field}.method.service: "${service}" is not a gRPC service name` };
    if (method !== undefined && !GRPC_METHOD.test(method)) return { ok: false, error: `${field}.method.method: "${method}" is not a gRPC method name` };
    if (service !== undefined && method !== undefined) path = { type: 'Exact', value: `/${service}/${method}` };
    else if (service !== undefined) path = { type: 'PathPrefix', value: `/${service}` };
    else path = { type: 'RegularExpression', value: `/[^/]+/${method!}` };
  } else if (type === 'RegularExpression') {
    for (const [f, v] of [['service', service], ['method', method]] as const) {
      if (v === undefined) continue;
      const err = checkRegex(validate, v);
      if (err !== undefined) return { ok: false, error: `${field}.method.${f}: invalid regular expression: ${err}` };
    }
    path = { type: 'RegularExpression', value: `/(${service ?? '[^/]+'})/(${method ?? '[^/]+'})` };
    const err = checkRegex(validate, path.value);
    if (err !== undefined) return { ok: false, error: `${field}.method: invalid regular expression: ${err}` };
  } else {
    return { ok: false, error: `${field}.method.type: ${type} is not supported` };
  }
  const headers = keyValueMatches(m.headers, `${field}.headers`, true, validate);
  if (typeof headers === 'string') return { ok: false, error: headers };
  return { ok: true, match: { path, headers, queryParams: [] } };
}
