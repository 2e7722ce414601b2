// Rate-limit response headers, Kong's set: X-RateLimit-Limit-<Window> and
// X-RateLimit-Remaining-<Window> per window, and the IETF draft RateLimit-Limit,
// RateLimit-Remaining, RateLimit-Reset for the window closest to its limit.
//
// They go on every allowed response, so they are built for speed: the names and limits are
// fixed per config, and `HeaderLayout` renders everything constant about the HTTP/1.1 field
// lines once; a request only adds its counts (with one window, the five fields are one
// template of five parts instead of five lines of four, and no field is checked again).
import type { ResponseFields } from '../types.ts';
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
export function pickWindow(limits: readonly number[], counts: readonly number[]): number {
  let pick = 0, least = Infinity;
  for (let i = 0; i < limits.length; i++) {
    const left = limits[i]! - counts[i]!;
    if (left <= 0) return i;
    if (left < least) {
      least = left;
      pick = i;
    }
  }
  return pick;
}

/** Whole seconds until window `pick` resets (at least 1). */
export function resetSeconds(pick: number, starts: readonly number[], windowsMs: readonly number[], now: number): number {
  return Math.max(1, Math.ceil((starts[pick]! + windowsMs[pick]! - now) / 1000));
}

/** One response's rate-limit headers. */
export class RateLimitFields implements ResponseFields {
  readonly layout: HeaderLayout;
  /** Remaining count per window, as text. */
  readonly left: readonly string[];
  readonly pick: number;
  readonly reset: number;

  constructor(layout: HeaderLayout, left: readonly string[], pick: number, reset: number) {
    this.layout = layout;
    this.left = left;
    this.pick = pick;
    this.reset = reset;
  }

  pairs(): string[] {
    const { layout: l, left, pick } = this;
    const out: string[] = [];
    for (let i = 0; i < left.length; i++) out.push(l.limit[i]!, l.limitText[i]!, l.remaining[i]!, left[i]!);
    out.push('ratelimit-limit', l.limitText[pick]!, 'ratelimit-remaining', left[pick]!, 'ratelimit-reset', decimal(this.reset));
    return out;
  }

  lines(): string {
    const { layout: l, left, pick } = this;
    const r = this.reset;
    const end = r < RESET_LINE.length ? RESET_LINE[r]! : `\r\nratelimit-reset: ${decimal(r)}\r\n`;
    // One window (the common config): one template, four joins.
    if (left.length === 1) return `${l.before[0]!}${left[0]!}${l.ietf[0]!}${left[0]!}${end}`;
    let s = '';
    for (let i = 0; i < left.length; i++) s += l.before[i]! + left[i]!;
    return `${s}${l.ietf[pick]!}${left[pick]!}${end}`;
  }
}

/** The headers for counts `counts` (after this request; before it, when rejected). */
export function fieldsOf(
  layout: HeaderLayout, windowsMs: readonly number[], limits: readonly number[],
  counts: readonly number[], starts: readonly number[], now: number,
): RateLimitFields {
  const n = limits.length;
  const left = new Array<string>(n);
  for (let i = 0; i < n; i++) left[i] = decimal(Math.max(0, limits[i]! - counts[i]!));
  const pick = pickWindow(limits, counts);
  return new RateLimitFields(layout, left, pick, resetSeconds(pick, starts, windowsMs, now));
}
