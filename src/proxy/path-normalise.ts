/**
 * The one canonical path normaliser. Routing, rewrites, plugins (auth, rate-limit keys) and the
 * upstream request all see the same string, so no layer can be fooled by a spelling another
 * layer reads differently (`/admin` vs `/%61dmin` vs `/x/../admin` vs `//admin`).
 *
 * Rules (RFC 3986 6.2.2, applied in this order):
 * - the path must start with `/` (origin-form); anything else is rejected;
 * - percent-encoding must be well formed (`%` + two hex digits), and `%00` (NUL) is rejected;
 * - percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded; every other escape
 *   is kept, with upper-case hex;
 * - ENCODED SLASH: `%2F` (and `%5C`) stay encoded and are NOT segment separators. `/a%2Fb` is
 *   one segment: it does not match a route for `/a/b`, and the upstream receives `%2F` as sent.
 *   Decoding it would let `/public%2F..%2Fadmin` reach `/admin` past a prefix rule;
 * - control characters, space, `#` and lone surrogates are rejected; other characters outside
 *   the RFC 3986 `pchar` set (`"`, `<`, `\`, `{`, non-ASCII, ...) are percent-encoded (a char
 *   below 256 is taken as the byte it came from, above as UTF-8);
 * - empty segments are merged (`//` → `/`), `.` and `..` segments are resolved (never above the
 *   root); a trailing slash is kept.
 *
 * The result is idempotent: normalise(normalise(p)) === normalise(p). An already-canonical path
 * is returned as the same string without allocation (the common case on the hot path).
 */

const HEX = '0123456789ABCDEF';

// 1: allowed as-is (unreserved, sub-delims, ':' '@'); 2: '/'; 3: '%'; 4: reject; 0: encode.
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-._~!$&'()*+,;=:@]/.test(ch)) CLASS[c] = 1;
  else if (ch === '/') CLASS[c] = 2;
  else if (ch === '%') CLASS[c] = 3;
  else if (c <= 0x20 || c === 0x7f || ch === '#' || ch === '?') CLASS[c] = 4;
  else CLASS[c] = 0;
}

function isUnreservedByte(b: number): boolean {
  return (
    (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b === 45 || b === 46 || b === 95 || b === 126
  );
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function pct(b: number): string {
  return '%' + HEX[b >> 4]! + HEX[b & 15]!;
}

/** Canonical form of `raw` (a path without query), or undefined when it must be rejected (400). */
export function normalisePath(raw: string): string | undefined {
  const n = raw.length;
  if (n === 0 || raw.charCodeAt(0) !== 47) return undefined;
  // Fast path: only plain pchars, no escapes, no empty or dot segments.
  let fast = true;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 128) { fast = false; break; }
    const k = CLASS[c]!;
    if (k === 1) continue;
    if (k === 2) {
      const next = i + 1 < n ? raw.charCodeAt(i + 1) : -1;
      if (next === 47 || next === 46) { fast = false; break; }
      continue;
    }
    fast = false;
    break;
  }
  if (fast) return raw;
  return slowNormalise(raw);
}

function slowNormalise(raw: string): string | undefined {
  const n = raw.length;
  const segs: string[] = [];
  let seg = '';
  let trailing = false;
  const endSegment = (last: boolean): void => {
    if (seg === '' || seg === '.') {
      trailing = last ? raw.charCodeAt(n - 1) === 47 || seg === '.' : trailing;
      if (last && seg === '' && segs.length === 0) trailing = true;
    } else if (seg === '..') {
      segs.pop();
      if (last) trailing = true;
    } else {
      segs.push(seg);
      if (last) trailing = false;
    }
    seg = '';
  };
  for (let i = 1; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c < 128) {
      const k = CLASS[c]!;
      if (k === 1) { seg += raw[i]; continue; }
      if (k === 2) { endSegment(false); continue; }
      if (k === 4) return undefined;
      if (k === 3) {
        if (i + 2 >= n) return undefined;
        const h = hexVal(raw.charCodeAt(i + 1));
        const l = hexVal(raw.charCodeAt(i + 2));
        if (h < 0 || l < 0) return undefined;
        const b = (h << 4) | l;
        if (b === 0) return undefined;
        seg += isUnreservedByte(b) ? String.fromCharCode(b) : pct(b);
        i += 2;
        continue;
      }
      seg += pct(c);
      continue;
    }
    if (c < 256) { seg += pct(c); continue; }
    // Above latin1: a real character, encoded as UTF-8.
    let cp = c;
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < n ? raw.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) return undefined;
      cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return undefined;
    }
    for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) seg += pct(b);
  }
  endSegment(true);
  if (segs.length === 0) return '/';
  return '/' + segs.join('/') + (trailing ? '/' : '');
}

/** Split a request target into path and query (query without `?`, '' when none). */
export function splitTarget(target: string): { path: string; query: string } {
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}
