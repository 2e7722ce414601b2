// Pure validation of `TrafficPolicy.spec.circuitBreaker`: a passive breaker per attachment
// (route or Gateway): after `consecutiveFailures` failed responses it opens for
// `openSeconds` (requests answer 503 without reaching the backend), then lets one probe
// through; a good probe closes it, a failed one opens it again.
import { obj, optInt, Problems } from '../core/read.ts';
import type { ValidateContext, ValidateResult } from '../types.ts';

export interface CircuitBreakerConfig {
  readonly consecutiveFailures: number;
  readonly openSeconds: number;
  /** Response statuses that count as failures (the proxy's own 502/503/504 included). */
  readonly failureStatuses: readonly number[];
}

export function validateCircuitBreaker(raw: unknown, ctx: ValidateContext): ValidateResult {
  const p = new Problems(ctx.field);
  const o = obj(raw);
  if (o === undefined) return { ok: false, errors: [{ field: ctx.field, message: 'must be an object' }] };
  const consecutiveFailures = optInt(o, 'consecutiveFailures', p, 1, 10_000) ?? 5;
  const openSeconds = optInt(o, 'openSeconds', p, 1, 3600) ?? 30;
  let failureStatuses = [500, 502, 503, 504];
  if (o.failureStatuses !== undefined) {
    if (!Array.isArray(o.failureStatuses) || o.failureStatuses.some((s) => typeof s !== 'number' || !Number.isInteger(s) || s < 400 || s > 599)) {
      p.add('failureStatuses', 'must be a list of status codes in 400-599');
    } else failureStatuses = [...new Set(o.failureStatuses as number[])].sort((a, b) => a - b);
  }
  for (const k of Object.keys(o)) if (!['consecutiveFailures', 'openSeconds', 'failureStatuses'].includes(k)) p.add(k, 'unknown field');
  if (!p.ok) return { ok: false, errors: p.list };
  return { ok: true, config: { consecutiveFailures, openSeconds, failureStatuses } satisfies CircuitBreakerConfig };
}
