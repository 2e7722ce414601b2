// Exponential backoff with jitter for watch and list restarts. The cap (2 s) is low on purpose:
// after an API server outage every informer must be watching again quickly (changes made during
// the outage must serve within 5 s of recovery), and nine kinds retrying every two seconds is no
// load for an API server.
export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  /** 0..1: each delay is scaled by a random factor in [1 - jitter, 1]. */
  readonly jitter?: number;
  readonly random?: () => number;
}

/** Delay before attempt number `failures` (1 = first retry). */
export function backoffDelay(failures: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 250;
  const max = options.maxMs ?? 2000;
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  const raw = Math.min(max, initial * 2 ** Math.max(0, failures - 1));
  return Math.round(raw * (1 - jitter * random()));
}
