// Rate-limit response headers, Kong's set: X-RateLimit-Limit-<Window> and
// X-RateLimit-Remaining-<Window> per window, and the IETF draft RateLimit-Limit,
// RateLimit-Remaining, RateLimit-Reset for the window closest to its limit.
import { titleOf, type WindowName } from './windows.ts';

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

/**
 * Writes the headers into `out`. Returns the seconds until the tightest window resets (for
 * Retry-After when rejected: the first window that is full).
 */
export function writeHeaders(
  out: Record<string, string>, names: HeaderNames, windowsMs: readonly number[], limits: readonly number[],
  counts: readonly number[], starts: readonly number[], now: number, hide: boolean,
): number {
  let tight = 0, tightRemaining = Infinity, full = -1;
  for (let i = 0; i < limits.length; i++) {
    const remaining = Math.max(0, limits[i]! - counts[i]!);
    if (!hide) {
      out[names.limit[i]!] = names.limitText[i]!;
      out[names.remaining[i]!] = String(remaining);
    }
    if (remaining < tightRemaining) {
      tightRemaining = remaining;
      tight = i;
    }
    if (full === -1 && counts[i]! >= limits[i]!) full = i;
  }
  const pick = full === -1 ? tight : full;
  const reset = Math.max(1, Math.ceil((starts[pick]! + windowsMs[pick]! - now) / 1000));
  if (!hide) {
    out['ratelimit-limit'] = names.limitText[pick]!;
    out['ratelimit-remaining'] = String(Math.max(0, limits[pick]! - counts[pick]!));
    out['ratelimit-reset'] = String(reset);
  }
  return reset;
}
