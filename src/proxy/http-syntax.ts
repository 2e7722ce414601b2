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
