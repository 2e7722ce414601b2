/**
 * HTTP/1.1 syntax shared by the upstream client's response parser and the server's request
 * parser: tokens, field values, decimal lengths and chunk sizes (RFC 9110 and 9112). One
 * definition each, so both directions accept and reject the same things.
 */

/** Control characters other than HTAB: never valid in a field value (RFC 9110 5.5). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CTL = /[\x00-\x08\x0a-\x1f\x7f]/;

// tchar (RFC 9110 5.6.2).
const TCHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) if (/[A-Za-z0-9!#$%&'*+\-.^_`|~]/.test(String.fromCharCode(c))) TCHAR[c] = 1;

/** Whether `s[from..to)` is a token (a valid field name or method). */
export function isToken(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** Optional whitespace (RFC 9110 5.6.3): SP or HTAB. */
export function isWs(c: number): boolean {
  return c === 32 || c === 9;
}

/** Plain decimal (no sign, no list); -1 when invalid. */
export function parseLength(v: string): number {
  if (v.length === 0 || v.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return n;
}

/** Hex chunk size of `data[from..to)`, chunk extensions ignored; -1 when invalid. */
export function parseChunkSize(data: Buffer, from: number, to: number): number {
  let n = 0;
  let digits = 0;
  let i = from;
  for (; i < to; i++) {
    const c = data[i]!;
    let v: number;
    if (c >= 48 && c <= 57) v = c - 48;
    else if (c >= 97 && c <= 102) v = c - 87;
    else if (c >= 65 && c <= 70) v = c - 55;
    else break;
    if (++digits > 12) return -1;
    n = n * 16 + v;
  }
  if (digits === 0) return -1;
  if (i < to) {
    // Only whitespace then `;` extensions may follow the size.
    while (i < to && (data[i] === 32 || data[i] === 9)) i++;
    if (i < to && data[i] !== 59) return -1;
    for (let k = i; k < to; k++) if (data[k] === 10 || data[k] === 13) return -1;
  }
  return n;
}

// Field names common enough to be worth a shared string: request fields clients and browsers
// send, response fields servers send, and the ones this proxy and its plugins read.
const WELL_KNOWN_NAMES = [
  'accept', 'accept-charset', 'accept-encoding', 'accept-language', 'accept-ranges', 'access-control-allow-credentials',
  'access-control-allow-headers', 'access-control-allow-methods', 'access-control-allow-origin', 'access-control-expose-headers',
  'access-control-max-age', 'access-control-request-headers', 'access-control-request-method', 'age', 'allow', 'apikey',
  'authorization', 'cache-control', 'connection', 'content-disposition', 'content-encoding', 'content-language', 'content-length',
  'content-location', 'content-range', 'content-type', 'cookie', 'date', 'dnt', 'etag', 'expect', 'expires', 'forwarded',
  'grpc-encoding', 'grpc-accept-encoding', 'grpc-message', 'grpc-status', 'grpc-timeout', 'host', 'if-match', 'if-modified-since',
  'if-none-match', 'if-range', 'if-unmodified-since', 'keep-alive', 'last-modified', 'link', 'location', 'origin', 'pragma',
  'priority', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'range', 'referer', 'retry-after',
  'sec-fetch-dest', 'sec-fetch-mode', 'sec-fetch-site', 'sec-fetch-user', 'sec-websocket-accept', 'sec-websocket-extensions',
  'sec-websocket-key', 'sec-websocket-protocol', 'sec-websocket-version', 'server', 'set-cookie', 'strict-transport-security',
  'te', 'traceparent', 'tracestate', 'trailer', 'transfer-encoding', 'upgrade', 'upgrade-insecure-requests', 'user-agent',
  'vary', 'via', 'www-authenticate', 'x-api-key', 'x-content-type-options', 'x-forwarded-for', 'x-forwarded-host',
  'x-forwarded-port', 'x-forwarded-proto', 'x-frame-options', 'x-real-ip', 'x-request-id', 'x-requested-with',
];

/** Each well-known name by its lower-case and its capitalised spelling (`user-agent`, `User-Agent`). */
const KNOWN_KEYS = new Map<string, string>();
for (const name of WELL_KNOWN_NAMES) {
  KNOWN_KEYS.set(name, name);
  KNOWN_KEYS.set(name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase()), name);
}

/**
 * The lower-case form of field name `name`, used as a key of header objects: for a well-known
 * name, always the same string (a source literal, which V8 keeps as its one internal copy).
 *
 * Why not just toLowerCase: V8's keyed inline caches recognise a property name by identity. A
 * name freshly sliced from a message or lower-cased is a new string every time, so a site that
 * has only seen one name (a client that sends nothing but Host, like wrk) misses on every
 * message, reconfigures itself to the same state and reports a feedback change, and V8 never
 * optimises the function around it: `--trace-opt-verbose` showed "delaying optimization of
 * parseRequestHead, IC changed" once per request, and the parser stayed in baseline code.
 */
export function headerKey(name: string): string {
  const known = KNOWN_KEYS.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  return KNOWN_KEYS.get(lower) ?? lower;
}

/**
 * HTTP/1.1 field lines (`name: value\r\n` each, as a plugin's response-field block) as a
 * `[name, value, ...]` list (the space after each colon dropped).
 */
export function fieldLinePairs(lines: string): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < lines.length) {
    let eol = lines.indexOf('\r\n', pos);
    if (eol === -1) eol = lines.length;
    const colon = lines.indexOf(':', pos);
    if (colon !== -1 && colon < eol) {
      const vs = lines.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1;
      out.push(lines.slice(pos, colon), lines.slice(vs, eol));
    }
    pos = eol + 2;
  }
  return out;
}
