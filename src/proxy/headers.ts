/**
 * Header hygiene between client and upstream. Framing headers (Transfer-Encoding,
 * Content-Length) and hop-by-hop headers describe one connection, not the message: copying
 * them blindly is how request smuggling and response splitting happen (RFC 9110 7.6.1,
 * RFC 9112 6.1). Everything here is a pure function over plain header objects.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { headerKey } from './http-syntax.ts';

/** Connection-specific headers (RFC 9110 7.6.1 plus the ones HTTP/2 forbids, RFC 9113 8.2.2). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'http2-settings',
  'host',
  'content-length',
]);

export type OutHeaders = Record<string, string | string[]>;

export interface ForwardContext {
  /** Value for Host upstream (the client's, unless URLRewrite changed it). */
  host: string;
  /** Original client host (X-Forwarded-Host). */
  forwardedHost: string;
  /** `http` or `https`: how the client reached us. */
  proto: string;
  /** Client address, IPv4-mapped IPv6 unwrapped. */
  clientIp: string;
}

/**
 * Request headers never copied upstream by the header-line writer: hop-by-hop and framing
 * headers, `expect` (the proxy answers 100-continue itself), and the X-Forwarded-* headers it
 * sets itself.
 */
const NOT_FORWARDED: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  'expect',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

/** Tokens of the Connection header name further hop-by-hop headers (RFC 9110 7.6.1). */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  // The common values name nothing else.
  if (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive') return undefined;
  const joined = Array.isArray(value) ? value.join(',') : value;
  let set: Set<string> | undefined;
  for (const raw of joined.split(',')) {
    const t = raw.trim().toLowerCase();
    if (t === '' || t === 'close' || t === 'keep-alive') continue;
    (set ??= new Set()).add(t);
  }
  return set;
}

/**
 * Request headers for the upstream. Pseudo-headers (HTTP/2) and hop-by-hop headers are left
 * out; Content-Length is kept only when it is one plain decimal (the parsers already rejected
 * conflicting framing; this is the second line of defence).
 */
export function buildUpstreamHeaders(incoming: IncomingHttpHeaders, ctx: ForwardContext): OutHeaders {
  const out: OutHeaders = {};
  const extra = connectionTokens(incoming.connection);
  for (const name in incoming) {
    const v = incoming[name];
    if (v === undefined || name.charCodeAt(0) === 58 /* ':' */) continue;
    if (HOP_BY_HOP.has(name) || name === 'expect') continue;
    if (extra !== undefined && extra.has(name)) continue;
    out[name] = v;
  }
  const cl = incoming['content-length'];
  if (typeof cl === 'string' && isDecimal(cl)) out['content-length'] = cl;
  // gRPC needs `te: trailers` end to end; it is the only TE value HTTP/2 allows.
  const te = incoming.te;
  if (typeof te === 'string' && te.trim().toLowerCase() === 'trailers') out.te = 'trailers';
  out.host = ctx.host;
  const xff = incoming['x-forwarded-for'];
  out['x-forwarded-for'] = xff === undefined ? ctx.clientIp : `${Array.isArray(xff) ? xff.join(', ') : xff}, ${ctx.clientIp}`;
  out['x-forwarded-proto'] = ctx.proto;
  out['x-forwarded-host'] = ctx.forwardedHost;
  return out;
}

/**
 * The upstream HTTP/1.1 header lines (`name: value\r\n` each) straight from the client's
 * headers, with the same rules as buildUpstreamHeaders but no intermediate object: the request
 * path of every request without request-header filters. Framing headers are left to the client
 * (h1-client.ts), which writes them for the body it really sends.
 */
export function upstreamHeaderLines(incoming: IncomingHttpHeaders, host: string, forwardedHost: string, proto: string, clientIp: string): string {
  const extra = connectionTokens(incoming.connection);
  let s = `host: ${host}\r\n`;
  for (const name in incoming) {
    const v = incoming[name];
    if (v === undefined || name.charCodeAt(0) === 58 /* ':' */) continue;
    if (NOT_FORWARDED.has(name)) continue;
    if (extra !== undefined && extra.has(name)) continue;
    if (typeof v === 'string') s += `${name}: ${v}\r\n`;
    else for (let i = 0; i < v.length; i++) s += `${name}: ${v[i]}\r\n`;
  }
  const te = incoming.te;
  if (typeof te === 'string' && te.trim().toLowerCase() === 'trailers') s += 'te: trailers\r\n';
  const xff = incoming['x-forwarded-for'];
  s += xff === undefined ? `x-forwarded-for: ${clientIp}\r\n` : `x-forwarded-for: ${Array.isArray(xff) ? xff.join(', ') : xff}, ${clientIp}\r\n`;
  return `${s}x-forwarded-proto: ${proto}\r\nx-forwarded-host: ${forwardedHost}\r\n`;
}

/** Header lines of a built header object (after filters); framing headers are left out. */
export function headerLinesOf(h: OutHeaders): string {
  let s = '';
  for (const name in h) {
    if (name === 'content-length' || name === 'transfer-encoding' || name === 'expect') continue;
    const v = h[name]!;
    if (typeof v === 'string') s += `${name}: ${v}\r\n`;
    else for (let i = 0; i < v.length; i++) s += `${name}: ${v[i]}\r\n`;
  }
  return s;
}

/** A flat header list (`[name, value, ...]`) as an object, names lower-cased; repeated names become arrays. */
export function listToObject(list: readonly string[]): OutHeaders {
  const out: OutHeaders = {};
  for (let i = 0; i < list.length; i += 2) {
    const name = headerKey(list[i]!);
    const v = list[i + 1]!;
    const cur = out[name];
    if (cur === undefined) out[name] = v;
    else if (Array.isArray(cur)) cur.push(v);
    else out[name] = [cur, v];
  }
  return out;
}

/** Response headers for the client: hop-by-hop and framing removed (node re-frames the body). */
export function buildDownstreamHeaders(upstream: IncomingHttpHeaders, keepLength: boolean): OutHeaders {
  const out: OutHeaders = {};
  const extra = connectionTokens(upstream.connection);
  for (const name in upstream) {
    const v = upstream[name];
    if (v === undefined || name.charCodeAt(0) === 58) continue;
    if (HOP_BY_HOP.has(name)) continue;
    if (extra !== undefined && extra.has(name)) continue;
    out[name] = v;
  }
  const cl = upstream['content-length'];
  if (keepLength && typeof cl === 'string' && isDecimal(cl)) out['content-length'] = cl;
  return out;
}

export function isDecimal(s: string): boolean {
  if (s.length === 0 || s.length > 15) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export function clientIpOf(remote: string | undefined): string {
  if (remote === undefined) return 'unknown';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}

/** Host without port, lower case; IPv6 literals keep their brackets. */
export function hostWithoutPort(host: string): string {
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    end = close === -1 ? host.length : close + 1;
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) end = colon;
  }
  let h = end === host.length ? host : host.slice(0, end);
  // Absolute FQDN form (`example.com.`) names the same host.
  if (h.length > 1 && h.charCodeAt(h.length - 1) === 46) h = h.slice(0, -1);
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c >= 65 && c <= 90) return h.toLowerCase();
  }
  return h;
}

/** Apply a HeaderModifier in Gateway API order: set, add, remove (names case-insensitive). */
export interface CompiledHeaderModifier {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

export function compileHeaderModifier(m: {
  readonly set: readonly { readonly name: string; readonly value: string }[];
  readonly add: readonly { readonly name: string; readonly value: string }[];
  readonly remove: readonly string[];
}): CompiledHeaderModifier {
  return {
    set: m.set.map((h) => [h.name.toLowerCase(), h.value] as const),
    add: m.add.map((h) => [h.name.toLowerCase(), h.value] as const),
    remove: m.remove.map((n) => n.toLowerCase()),
  };
}

export function applyHeaderModifier(h: OutHeaders, m: CompiledHeaderModifier): void {
  for (let i = 0; i < m.set.length; i++) {
    const [n, v] = m.set[i]!;
    h[n] = v;
  }
  for (let i = 0; i < m.add.length; i++) {
    const [n, v] = m.add[i]!;
    const cur = h[n];
    // Gateway API: "add" appends to an existing value (`my-header: foo,bar`).
    h[n] = cur === undefined ? v : `${Array.isArray(cur) ? cur.join(',') : cur},${v}`;
  }
  for (let i = 0; i < m.remove.length; i++) delete h[m.remove[i]!];
}
