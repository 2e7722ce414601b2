/**
 * The HTTP/1.x request head (RFC 9112), parsed strictly for FluxGate's own HTTP/1.1 server:
 * request line, header fields, framing, Host, Connection and Expect. Anything a proxy could read
 * differently from the server behind it is refused instead of guessed at (request smuggling):
 * obs-fold, bare CR or LF, whitespace before a colon, invalid or repeated Content-Length,
 * Transfer-Encoding other than a final `chunked`, both framings at once, a missing or repeated
 * Host. Each refusal names the status and a stable code for the error answer.
 *
 * `headers` follows node:http's IncomingMessage rules, so the proxy sees the same object from
 * either server: names lower-cased, `set-cookie` an array, `cookie` joined with `; `, the
 * single-valued fields node lists keep their first value, the rest joined with `, `.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { CTL, headerKey, isToken, isWs, parseLength } from './http-syntax.ts';

export interface RequestHead {
  readonly method: string;
  /** The request-target as sent (origin-form, absolute-form, or `*` for OPTIONS). */
  readonly url: string;
  readonly httpVersionMinor: 0 | 1;
  readonly headers: IncomingHttpHeaders;
  /** Names as sent and values, flat: `[name, value, ...]`. */
  readonly rawHeaders: string[];
  /** -2: no body; -1: chunked; otherwise the Content-Length. */
  readonly bodyLength: number;
  /** The connection may carry another request after this one. */
  readonly keepAlive: boolean;
  /** `Connection: upgrade` with an `Upgrade` field (WebSocket). */
  readonly upgrade: boolean;
  /** `Expect: 100-continue`: the client waits for an interim answer before the body. */
  readonly expectContinue: boolean;
}

export interface HeadError {
  readonly status: 400 | 417 | 431 | 501 | 505;
  readonly code: string;
  readonly message: string;
}

export function isHeadError(r: RequestHead | HeadError): r is HeadError {
  return (r as HeadError).status !== undefined;
}

const bad = (message: string, code = 'BAD_REQUEST'): HeadError => ({ status: 400, code, message });

/** Fields node:http keeps only the first value of (IncomingMessage#_addHeaderLine). */
const SINGLE: ReadonlySet<string> = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after',
  'server', 'user-agent',
]);

/** Whether `c` may appear in a request-target: visible, not a space or a control character. */
function isTargetChar(c: number): boolean {
  return c > 32 && c !== 127 && c < 256;
}

function validTarget(method: string, t: string): boolean {
  if (t.length === 0) return false;
  for (let i = 0; i < t.length; i++) if (!isTargetChar(t.charCodeAt(i))) return false;
  const c0 = t.charCodeAt(0);
  if (c0 === 47) return true; // origin-form: /path?query
  if (t === '*') return method === 'OPTIONS';
  // absolute-form (a client that takes us for a forward proxy): scheme "://" ...
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]/.test(t);
}

/** Comma-separated tokens of a list field, trimmed and lower-cased, empty ones dropped. */
function tokens(v: string): string[] {
  const out: string[] = [];
  for (const raw of v.split(',')) {
    const t = raw.trim().toLowerCase();
    if (t !== '') out.push(t);
  }
  return out;
}

/**
 * Parse `head`: the bytes of a request head as latin1, from the method to the last header line,
 * without the empty line that ends it. The caller enforces the byte limit (431) before.
 */
export function parseRequestHead(head: string, maxHeaderCount: number): RequestHead | HeadError {
  let eol = head.indexOf('\r\n');
  if (eol === -1) eol = head.length;
  // request-line = method SP request-target SP HTTP-version
  const sp1 = head.indexOf(' ');
  if (sp1 <= 0 || sp1 >= eol) return bad('invalid request line');
  const sp2 = head.indexOf(' ', sp1 + 1);
  if (sp2 === -1 || sp2 >= eol) return bad('invalid request line');
  if (!isToken(head, 0, sp1)) return bad('invalid method');
  const method = head.slice(0, sp1);
  const url = head.slice(sp1 + 1, sp2);
  const version = head.slice(sp2 + 1, eol);
  let minor: 0 | 1;
  if (version === 'HTTP/1.1') minor = 1;
  else if (version === 'HTTP/1.0') minor = 0;
  else if (/^HTTP\/\d\.\d$/.test(version)) return { status: 505, code: 'HTTP_VERSION_NOT_SUPPORTED', message: `${version} is not supported` };
  else return bad('invalid HTTP version in the request line');
  if (method === 'CONNECT') return { status: 501, code: 'METHOD_NOT_IMPLEMENTED', message: 'CONNECT is not supported' };
  if (!validTarget(method, url)) return bad('invalid request target');

  const headers: IncomingHttpHeaders = Object.create(null) as IncomingHttpHeaders;
  const raw: string[] = [];
  let count = 0;
  let length = -1;
  let te: string | undefined;
  let hosts = 0;
  let connection: string | undefined;
  let upgradeField = false;
  let expect: string | undefined;
  let pos = eol + 2;
  const end = head.length;
  while (pos < end) {
    let e = head.indexOf('\r\n', pos);
    if (e === -1) e = end;
    if (isWs(head.charCodeAt(pos))) return bad('obs-fold in request headers');
    const colon = head.indexOf(':', pos);
    if (colon === -1 || colon >= e) return bad('invalid header line');
    // A name is a token up to the colon: whitespace before the colon is refused (RFC 9112 5.1).
    if (!isToken(head, pos, colon)) return bad('invalid header name');
    let vs = colon + 1;
    let ve = e;
    while (vs < ve && isWs(head.charCodeAt(vs))) vs++;
    while (ve > vs && isWs(head.charCodeAt(ve - 1))) ve--;
    const name = head.slice(pos, colon);
    const value = head.slice(vs, ve);
    pos = e + 2;
    // A bare CR or LF inside the line is a CTL too.
    if (CTL.test(value)) return bad('invalid character in a header value');
    if (++count > maxHeaderCount) return { status: 431, code: 'HEADERS_TOO_LARGE', message: 'too many header fields' };
    raw.push(name, value);
    const key = headerKey(name);
    switch (key) {
      case 'content-length': {
        const v = parseLength(value);
        if (v < 0) return bad('invalid Content-Length');
        if (length !== -1) return bad('more than one Content-Length');
        length = v;
        break;
      }
      case 'transfer-encoding':
        te = te === undefined ? value : `${te},${value}`;
        break;
      case 'host':
        hosts++;
        break;
      case 'connection':
        connection = connection === undefined ? value : `${connection},${value}`;
        break;
      case 'upgrade':
        upgradeField = true;
        break;
      case 'expect':
        expect = value;
        break;
      default:
        break;
    }
    const cur = headers[key];
    if (cur === undefined) {
      headers[key] = key === 'set-cookie' ? [value] : value;
    } else if (key === 'set-cookie') {
      (cur as string[]).push(value);
    } else if (!SINGLE.has(key)) {
      headers[key] = `${cur as string}${key === 'cookie' ? '; ' : ', '}${value}`;
    }
  }

  if (minor === 1 && hosts !== 1) return bad(hosts === 0 ? 'missing Host header' : 'more than one Host header');
  if (hosts > 1) return bad('more than one Host header');
  let bodyLength = length === -1 ? -2 : length;
  if (te !== undefined) {
    if (length !== -1) return bad('both Transfer-Encoding and Content-Length');
    if (minor === 0) return bad('Transfer-Encoding in an HTTP/1.0 request');
    const codings = tokens(te);
    if (codings.length === 0 || codings[codings.length - 1] !== 'chunked') return bad('the final transfer coding is not chunked');
    if (codings.length > 1) return { status: 501, code: 'TRANSFER_CODING_NOT_IMPLEMENTED', message: `transfer coding ${codings[0]!} is not supported` };
    bodyLength = -1;
  }
  if (bodyLength === 0) bodyLength = -2;

  const conn = connection === undefined ? [] : tokens(connection);
  const keepAlive = minor === 1 ? !conn.includes('close') : conn.includes('keep-alive');
  const upgrade = upgradeField && conn.includes('upgrade');
  let expectContinue = false;
  if (expect !== undefined) {
    if (expect.toLowerCase() !== '100-continue') return { status: 417, code: 'EXPECTATION_FAILED', message: 'only Expect: 100-continue is supported' };
    // HTTP/1.0 clients do not know interim answers (RFC 9110 10.1.1): ignore it there.
    expectContinue = minor === 1;
  }
  return { method, url, httpVersionMinor: minor, headers, rawHeaders: raw, bodyLength, keepAlive, upgrade, expectContinue };
}
