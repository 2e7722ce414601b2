/**
 * CORS (Gateway API HTTPCORSFilter, GEP-1767). Preflights are answered by the proxy and never
 * reach the backend; actual requests from an allowed origin get the allow/expose headers on the
 * response. A disallowed origin gets no CORS headers at all, which makes the browser refuse.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Cors } from '../../ir/index.ts';
import type { OutHeaders } from '../headers.ts';

export interface CompiledCors {
  readonly anyOrigin: boolean;
  readonly exact: ReadonlySet<string>;
  /** Wildcard origins as [scheme + '://', '.' + suffix]. */
  readonly wildcards: readonly (readonly [string, string])[];
  readonly credentials: boolean;
  readonly anyMethod: boolean;
  readonly methods: string;
  readonly anyHeader: boolean;
  readonly headers: string;
  readonly expose: string;
  readonly maxAge: string;
}

export function compileCors(c: Cors): CompiledCors {
  const exact = new Set<string>();
  const wildcards: (readonly [string, string])[] = [];
  let anyOrigin = false;
  for (const o of c.allowOrigins) {
    if (o === '*') anyOrigin = true;
    else {
      const star = o.indexOf('://*.');
      if (star !== -1) wildcards.push([o.slice(0, star + 3).toLowerCase(), o.slice(star + 4).toLowerCase()]);
      else exact.add(o.toLowerCase());
    }
  }
  return {
    anyOrigin,
    exact,
    wildcards,
    credentials: c.allowCredentials,
    anyMethod: c.allowMethods.includes('*'),
    methods: c.allowMethods.filter((m) => m !== '*').join(', '),
    anyHeader: c.allowHeaders.includes('*'),
    headers: c.allowHeaders.filter((h) => h !== '*').join(', '),
    expose: c.exposeHeaders.join(', '),
    maxAge: c.maxAgeSeconds > 0 ? String(c.maxAgeSeconds) : '',
  };
}

export function originAllowed(c: CompiledCors, origin: string): boolean {
  if (c.anyOrigin) return true;
  const o = origin.toLowerCase();
  if (c.exact.has(o)) return true;
  for (const [scheme, suffix] of c.wildcards) {
    if (o.startsWith(scheme) && o.endsWith(suffix) && o.length > scheme.length + suffix.length) return true;
  }
  return false;
}

export function isPreflight(method: string | undefined, headers: IncomingHttpHeaders): boolean {
  return method === 'OPTIONS' && headers.origin !== undefined && headers['access-control-request-method'] !== undefined;
}

function allowOriginValue(c: CompiledCors, origin: string): string {
  // `*` is not allowed together with credentials (Fetch standard, CORS protocol).
  return c.anyOrigin && !c.credentials ? '*' : origin;
}

/** Headers of the proxy's preflight answer (empty when the origin is not allowed). */
export function preflightHeaders(c: CompiledCors, headers: IncomingHttpHeaders): OutHeaders {
  const origin = headers.origin as string;
  const out: OutHeaders = { 'content-length': '0' };
  if (!originAllowed(c, origin)) return out;
  out['access-control-allow-origin'] = allowOriginValue(c, origin);
  if (out['access-control-allow-origin'] !== '*') out.vary = 'Origin';
  if (c.credentials) out['access-control-allow-credentials'] = 'true';
  const reqMethod = headers['access-control-request-method'] as string;
  const methods = c.anyMethod ? (c.credentials ? reqMethod : '*') : c.methods;
  if (methods !== '') out['access-control-allow-methods'] = methods;
  const reqHeaders = headers['access-control-request-headers'];
  const allowHeaders = c.anyHeader ? (c.credentials ? (reqHeaders ?? '') : '*') : c.headers;
  if (allowHeaders !== '') out['access-control-allow-headers'] = allowHeaders;
  if (c.maxAge !== '') out['access-control-max-age'] = c.maxAge;
  // Browsers read expose-headers from actual responses only, but Gateway API conformance
  // (HTTPRouteCORS) expects the preflight to carry it too; it is harmless there.
  if (c.expose !== '') out['access-control-expose-headers'] = c.expose;
  return out;
}

/** Add the CORS headers of an actual (non-preflight) response. */
export function addResponseCors(c: CompiledCors, origin: string | undefined, out: OutHeaders): void {
  if (origin === undefined || !originAllowed(c, origin)) return;
  const allow = allowOriginValue(c, origin);
  out['access-control-allow-origin'] = allow;
  if (allow !== '*') {
    const vary = out.vary;
    out.vary = vary === undefined ? 'Origin' : `${Array.isArray(vary) ? vary.join(', ') : vary}, Origin`;
  }
  if (c.credentials) out['access-control-allow-credentials'] = 'true';
  if (c.expose !== '') out['access-control-expose-headers'] = c.expose;
}
