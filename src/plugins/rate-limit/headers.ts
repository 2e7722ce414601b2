// Rate-limit response headers, Kong's set: X-RateLimit-Limit-<Window> and
// X-RateLimit-Remaining-<Window> per window, and the IETF draft RateLimit-Limit,
// RateLimit-Remaining, RateLimit-Reset for the window closest to its limit.
//
// They go on every allowed response, so they are built for speed: the names and limits are
// fixed per config, and `HeaderLayout` renders everything constant about the HTTP/1.1 field
// lines once; a request only adds its counts. With one window the five fields are one
// template of five parts (instead of five lines of four), handed to the proxy as ready field
// lines (PluginRequest.addResponseLines): no object per request, no field checked again.
import { titleOf, type WindowName } from './windows.ts';

// Counts as text without String(n). V8 keeps each number it converts in its number-string
// cache, a table in the old generation, so a new count on every request (remaining counts
// change each time) had each string survive young collections and be promoted, and the
// old-generation garbage cost mark-compacts: under load, 17-25 promoted bytes per request
// instead of 3-4 and a mark-compact every few seconds (--trace-gc-nvp). Three-digit groups
// from tables make short strings that die young.
const PLAIN: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i));
const PADDED: readonly string[] = PLAIN.map((t) => t.padStart(3, '0'));

/** Decimal text of a non-negative integer. */
export function decimal(n: number): string {
  if (n < 1000) return PLAIN[n]!;
  let s = PADDED[n % 1000]!;
  n = Math.floor(n / 1000);
  while (n >= 1000) {
    s = PADDED[n % 1000]! + s;
    n = Math.floor(n / 1000);
  }
  return PLAIN[n]! + s;
}

/** RateLimit-Reset's line for resets up to a minute (its CRLF ends the line before it). */
const RESET_LINE: readonly string[] = PLAIN.slice(0, 61).map((t) => `\r\nratelimit-reset: ${t}\r\n`);

/** The names, limits and constant HTTP/1.1 text of one config's headers. */
export class HeaderLayout {
  readonly limit: readonly string[];
  readonly remaining: readonly string[];
  readonly limitText: readonly string[];
  /** Per window: what precedes its remaining count (`x-ratelimit-limit-<w>: <n>` and the remaining field's name). */
  readonly before: readonly string[];
  /** Per window picked for the IETF fields: what follows the last remaining count up to RateLimit-Remaining's value. */
  readonly ietf: readonly string[];

  constructor(windows: readonly WindowName[], limits: readonly number[]) {
    const w = windows.map((x) => titleOf(x).toLowerCase());
    this.limit = w.map((x) => `x-ratelimit-limit-${x}`);
    this.remaining = w.map((x) => `x-ratelimit-remaining-${x}`);
    this.limitText = limits.map(String);
    this.before = w.map((_, i) => `${i === 0 ? '' : '\r\n'}${this.limit[i]}: ${this.limitText[i]}\r\n${this.remaining[i]}: `);
    this.ietf = w.map((_, i) => `\r\nratelimit-limit: ${this.limitText[i]}\r\nratelimit-remaining: `);
  }
}

/** Which window the IETF fields and Retry-After speak of: the first full one, else the one with the least left. */
function pickWindow(limits: readonly number[], counts: readonly number[]): number {
  let pick = 0, least = Infinity;
  for (let i = 0; i < limits.length; i++) {
    const room = limits[i]! - counts[i]!;
    if (room <= 0) return i;
    if (room < least) {
      least = room;
      pick = i;
    }
  }
  return pick;
}

/** Whole seconds until window `pick` resets (at least 1). */
function resetSeconds(pick: number, starts: readonly number[], windowsMs: readonly number[], now: number): number {
  return Math.max(1, Math.ceil((starts[pick]! + windowsMs[pick]! - now) / 1000));
}

/** Remaining count of window `i`, as text. */
function left(limits: readonly number[], counts: readonly number[], i: number): string {
  return decimal(Math.max(0, limits[i]! - counts[i]!));
}

/** An allowed response's headers, as HTTP/1.1 field lines (counts after this request). */
export function rateLimitLines(
  layout: HeaderLayout, windowsMs: readonly number[], limits: readonly number[],
  counts: readonly number[], starts: readonly number[], now: number,
): string {
  const pick = pickWindow(limits, counts);
  const r = resetSeconds(pick, starts, windowsMs, now);
  const end = r < RESET_LINE.length ? RESET_LINE[r]! : `\r\nratelimit-reset: ${decimal(r)}\r\n`;
  if (limits.length === 1) {
    // One window (the common config): one template of five parts.
    const l0 = left(limits, counts, 0);
    return `${layout.before[0]!}${l0}${layout.ietf[0]!}${l0}${end}`;
  }
  let s = '', picked = '';
  for (let i = 0; i < limits.length; i++) {
    const li = left(limits, counts, i);
    if (i === pick) picked = li;
    s += layout.before[i]! + li;
  }
  return `${s}${layout.ietf[pick]!}${picked}${end}`;
}

/**
 * A rejected request's 429 headers (counts before it): the same fields unless hidden, and
 * Retry-After, the seconds until the first full window resets.
 */
export function limitedHeaders(
  layout: HeaderLayout, windowsMs: readonly number[], limits: readonly number[],
  counts: readonly number[], starts: readonly number[], now: number, hide: boolean,
): Record<string, string> {
  const pick = pickWindow(limits, counts);
  const reset = decimal(resetSeconds(pick, starts, windowsMs, now));
  const h: Record<string, string> = {};
  if (!hide) {
    for (let i = 0; i < limits.length; i++) {
      h[layout.limit[i]!] = layout.limitText[i]!;
      h[layout.remaining[i]!] = left(limits, counts, i);
    }
    h['ratelimit-limit'] = layout.limitText[pick]!;
    h['ratelimit-remaining'] = left(limits, counts, pick);
    h['ratelimit-reset'] = reset;
  }
  h['retry-after'] = reset;
  return h;
}
