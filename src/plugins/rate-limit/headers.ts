// Rate-limit response headers, Kong's set: X-RateLimit-Limit-<Window> and
// X-RateLimit-Remaining-<Window> per window, and the IETF draft RateLimit-Limit,
// RateLimit-Remaining, RateLimit-Reset for the window closest to its limit.
import { titleOf, type WindowName } from './windows.ts';

// Resets of up to a minute as ready strings: the common values of RateLimit-Reset.
const RESET_TEXT: readonly string[] = Array.from({ length: 61 }, (_, i) => String(i));

export interface HeaderNames {
  readonly limit: readonly string[];
  readonly remaining: readonly string[];
  /** Limits as strings, computed once. */
  readonly limitText: readonly string[];
}

export function headerNames(windows: readonly WindowName[], limits: readonly number[]): HeaderNames {
  return {
    limit: windows.map((w) => `x-ratelimit-limit-${titleOf(w).toLowerCase()}`),
    remaining: windows.map((w) => `x-ratelimit-remaining-${titleOf(w).toLowerCase()}`),
    limitText: limits.map(String),
  };
}

/** Where the headers go: the request's response (allowed) or a 429's own headers. */
export interface HeaderSink {
  addResponseHeader(name: string, value: string): void;
}

/** Collects headers into an object (a 429 answer's headers). */
export class HeaderRecord implements HeaderSink {
  readonly headers: Record<string, string> = {};
  addResponseHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
}

/**
 * Writes the headers into `out`. Returns the seconds until the tightest window resets (for
 * Retry-After when rejected: the first window that is full).
 */
export function writeHeaders(
  out: HeaderSink, names: HeaderNames, windowsMs: readonly number[], limits: readonly number[],
  counts: readonly number[], starts: readonly number[], now: number, hide: boolean,
): number {
  let tight = 0, tightRemaining = Infinity, full = -1, tightText = '';
  for (let i = 0; i < limits.length; i++) {
    const remaining = Math.max(0, limits[i]! - counts[i]!);
    // One string per window, shared by both headers that carry it.
    const text = hide ? '' : String(remaining);
    if (!hide) {
      out.addResponseHeader(names.limit[i]!, names.limitText[i]!);
      out.addResponseHeader(names.remaining[i]!, text);
    }
    if (remaining < tightRemaining) {
      tightRemaining = remaining;
      tight = i;
      tightText = text;
    }
    if (full === -1 && counts[i]! >= limits[i]!) full = i;
  }
  const pick = full === -1 ? tight : full;
  const reset = Math.max(1, Math.ceil((starts[pick]! + windowsMs[pick]! - now) / 1000));
  if (!hide) {
    out.addResponseHeader('ratelimit-limit', names.limitText[pick]!);
    out.addResponseHeader('ratelimit-remaining', pick === tight ? tightText : '0');
    out.addResponseHeader('ratelimit-reset', reset < RESET_TEXT.length ? RESET_TEXT[reset]! : String(reset));
  }
  return reset;
}
