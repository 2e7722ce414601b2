// Pure validation of `TrafficPolicy.spec.rateLimit` (Kong's rate-limiting fields, camelCase).
import { CidrSet, parseCidr } from '../core/cidr.ts';
import { headerName, obj, oneOf, optBool, optInt, optString, optStrings, Problems } from '../core/read.ts';
import type { ValidateContext, ValidateResult } from '../types.ts';
import type { LimitBy, RateLimitConfig, RedisConfig } from './config.ts';
import { WINDOW_NAMES, type WindowName } from './windows.ts';

export function validateRateLimit(raw: unknown, ctx: ValidateContext): ValidateResult {
  const p = new Problems(ctx.field);
  const o = obj(raw);
  if (o === undefined) return { ok: false, errors: [{ field: ctx.field, message: 'must be an object' }] };
  const limits: { window: WindowName; limit: number }[] = [];
  for (const w of WINDOW_NAMES) {
    const n = optInt(o, w, p, 1, 1_000_000_000);
    if (n !== undefined) limits.push({ window: w, limit: n });
  }
  if (limits.length === 0 && p.ok) p.add('', 'set at least one of second, minute, hour, day');
  const limitBy = oneOf<LimitBy>(o, 'limitBy', ['consumer', 'ip', 'header', 'route'], p, 'consumer');
  let header: string | undefined;
  const h = optString(o, 'headerName', p);
  if (limitBy === 'header') {
    if (h === undefined) p.add('headerName', 'required when limitBy is "header"');
    else header = headerName(h, 'headerName', p);
  }
  const policy = oneOf(o, 'policy', ['local', 'redis'] as const, p, 'local');
  let redis: RedisConfig | undefined;
  if (policy === 'redis') {
    const r = obj(o.redis);
    if (r === undefined) p.add('redis', 'required when policy is "redis"');
    else {
      const host = optString(r, 'host', p, 'redis.host');
      if (host === undefined && r.host === undefined) p.add('redis.host', 'required');
      const port = optInt(r, 'port', p, 1, 65535, 'redis.port') ?? 6379;
      const db = optInt(r, 'database', p, 0, 15, 'redis.database') ?? 0;
      const timeoutMs = optInt(r, 'timeoutMs', p, 1, 10_000, 'redis.timeoutMs') ?? 100;
      const onErrorRaw = r.onError;
      let onError: 'local' | 'deny' = 'local';
      if (onErrorRaw !== undefined) {
        if (onErrorRaw === 'Local' || onErrorRaw === 'Deny') onError = onErrorRaw === 'Local' ? 'local' : 'deny';
        else p.add('redis.onError', 'must be one of "Local", "Deny"');
      }
      if (host !== undefined) redis = { host, port, db, timeoutMs, onError };
    }
  } else if (o.redis !== undefined) {
    p.add('redis', 'only allowed when policy is "redis"');
  }
  const trustedProxies = optStrings(o, 'trustedProxies', p) ?? [];
  trustedProxies.forEach((c, i) => {
    if (parseCidr(c) === undefined) p.add(`trustedProxies[${i}]`, `"${c}" is not an IP address or CIDR`);
  });
  const hideClientHeaders = optBool(o, 'hideClientHeaders', p) ?? false;
  const known = new Set([...WINDOW_NAMES, 'limitBy', 'headerName', 'policy', 'redis', 'trustedProxies', 'hideClientHeaders']);
  for (const k of Object.keys(o)) if (!known.has(k)) p.add(k, 'unknown field');
  if (!p.ok) return { ok: false, errors: p.list };
  const config: RateLimitConfig = {
    limits, limitBy, ...(header !== undefined ? { header } : {}), policy, ...(redis !== undefined ? { redis } : {}),
    trustedProxies, hideClientHeaders,
  };
  return { ok: true, config };
}

/** Used by create(): the table is trusted, but a hand-written table must not crash a compile. */
export function trustedSet(list: readonly string[]): CidrSet {
  return CidrSet.of(list);
}
