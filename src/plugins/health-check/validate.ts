// Pure validation of `TrafficPolicy.spec.healthCheck`: active HTTP probes of every endpoint of
// the backends that the policy's routes send traffic to. It is not a request filter: the
// translator puts the result on the IR Backend (`Backend.healthCheck`), and the proxy probes
// and takes failing endpoints out of load balancing. The passive side is `circuitBreaker`.
import { headerValueOk, obj, optInt, optString, Problems, type Obj } from '../core/read.ts';
import type { ValidateContext, ValidateResult } from '../types.ts';

/** The IR HealthCheck without its id (the translator names the attachment). */
export interface HealthCheckConfig {
  readonly path: string;
  readonly host?: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  readonly expectedStatuses: readonly { readonly min: number; readonly max: number }[];
}

// Gateway API Duration (GEP-2257), as HTTPRoute timeouts use. Kept here rather than imported
// from the translator: plugins import only ir and their own modules.
const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

function duration(o: Obj, key: string, p: Problems, minMs: number, maxMs: number, fallback: number): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !DURATION.test(v)) {
    p.add(key, 'must be a duration such as "5s" or "500ms"');
    return fallback;
  }
  let ms = 0;
  for (const m of v.matchAll(/([0-9]{1,5})(h|ms|m|s)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  if (ms < minMs || ms > maxMs) p.add(key, `must be between ${minMs} ms and ${maxMs / 1000} s`);
  return ms;
}

/** `200`, or `"200-399"`: one status or an inclusive range of them. */
function statusRange(v: unknown, field: string, p: Problems): { min: number; max: number } | undefined {
  const ok = (n: number): boolean => Number.isInteger(n) && n >= 100 && n <= 599;
  if (typeof v === 'number' && ok(v)) return { min: v, max: v };
  if (typeof v === 'string') {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(v);
    const min = Number(m?.[1]), max = Number(m?.[2] ?? m?.[1]);
    if (m !== null && ok(min) && ok(max) && min <= max) return { min, max };
  }
  p.add(field, 'must be a status code (100-599) or a range such as "200-399"');
  return undefined;
}

export function validateHealthCheck(raw: unknown, ctx: ValidateContext): ValidateResult {
  const p = new Problems(ctx.field);
  const o = obj(raw);
  if (o === undefined) return { ok: false, errors: [{ field: ctx.field, message: 'must be an object' }] };
  for (const k of Object.keys(o)) if (k !== 'active') p.add(k, 'unknown field');
  const a = obj(o.active);
  if (a === undefined) {
    p.add('active', o.active === undefined ? 'required' : 'must be an object');
    return { ok: false, errors: p.list };
  }
  const q = new Problems(p.at('active'));
  const path = optString(a, 'path', q) ?? '/';
  if (!path.startsWith('/') || /[\s\0]/.test(path)) q.add('path', 'must start with "/" and hold no whitespace');
  const host = optString(a, 'host', q);
  if (host !== undefined && (!headerValueOk(host) || /[\s/]/.test(host))) q.add('host', 'must be a host name (and port)');
  const intervalMs = duration(a, 'interval', q, 100, 3_600_000, 5000);
  const timeoutMs = duration(a, 'timeout', q, 10, 60_000, 1000);
  const healthyThreshold = optInt(a, 'healthyThreshold', q, 1, 100) ?? 2;
  const unhealthyThreshold = optInt(a, 'unhealthyThreshold', q, 1, 100) ?? 3;
  let expectedStatuses = [{ min: 200, max: 399 }];
  if (a.expectedStatuses !== undefined) {
    if (!Array.isArray(a.expectedStatuses) || a.expectedStatuses.length === 0) q.add('expectedStatuses', 'must be a non-empty list');
    else {
      const ranges = a.expectedStatuses.map((v, i) => statusRange(v, `expectedStatuses[${i}]`, q));
      if (ranges.every((r) => r !== undefined)) expectedStatuses = ranges.sort((x, y) => x.min - y.min || x.max - y.max);
    }
  }
  const known = ['path', 'host', 'interval', 'timeout', 'healthyThreshold', 'unhealthyThreshold', 'expectedStatuses'];
  for (const k of Object.keys(a)) if (!known.includes(k)) q.add(k, 'unknown field');
  const errors = [...p.list, ...q.list];
  if (errors.length > 0) return { ok: false, errors };
  const config: HealthCheckConfig = {
    path, ...(host !== undefined ? { host } : {}), intervalMs, timeoutMs, healthyThreshold, unhealthyThreshold, expectedStatuses,
  };
  return { ok: true, config };
}
