// Per-request rate limiting. With the local policy the decision is synchronous and allocates
// only the response headers' text. Counters live in shared state keyed by the policy id and
// its config, so a reload of an unchanged policy keeps counting where it was.
import { answer } from '../core/answers.ts';
import { clientAddress } from '../core/client-ip.ts';
import type { CidrSet } from '../core/cidr.ts';
import type { CreateContext, HookResult, PluginHooks, PluginRequest } from '../types.ts';
import type { RateLimitConfig } from './config.ts';
import { HeaderLayout, limitedHeaders, rateLimitLines } from './headers.ts';
import { LocalCounters } from './local-store.ts';
import { RedisCounters } from './redis-store.ts';
import { trustedSet } from './validate.ts';
import { WINDOW_MS } from './windows.ts';

const UNAVAILABLE = answer(503, 'RATE_LIMIT_UNAVAILABLE', 'the rate limit store is unavailable');

export function createRateLimit(raw: unknown, ctx: CreateContext): PluginHooks {
  const config = raw as RateLimitConfig;
  if (!(config?.limits?.length > 0)) throw new Error('rate-limit: no limits');
  const windows = config.limits.map((l) => l.window);
  const windowsMs = windows.map((w) => WINDOW_MS[w]);
  const limits = config.limits.map((l) => l.limit);
  const identity = `${ctx.id}|${JSON.stringify(config)}`;
  const local = ctx.shared(`rate-limit|local|${identity}`, () => new LocalCounters(windowsMs, limits));
  const layout = new HeaderLayout(windows, limits);
  const trusted = config.trustedProxies.length > 0 ? trustedSet(config.trustedProxies) : undefined;
  const hide = config.hideClientHeaders;
  const keyOf = keyFunction(config, trusted);
  const now = ctx.now;

  if (config.policy === 'redis' && config.redis !== undefined) {
    const r = config.redis;
    const redis = ctx.shared(`rate-limit|redis|${r.host}:${r.port}/${r.db}|${r.timeoutMs}`, () => new RedisCounters(r), (c) => c.close());
    const prefix = `fluxgate:rl:${ctx.id}:`;
    const logger = ctx.logger;
    let warned = false;
    return {
      onRequest(req) {
        const key = keyOf(req);
        return redis.take(prefix + key, windowsMs, limits).then(
          (d) => {
            warned = false;
            return decide(req, d.allowed, d.counts, d.starts, d.now, layout, windowsMs, limits, hide);
          },
          (err: unknown) => {
            if (!warned) {
              warned = true;
              logger.warn({ plugin: ctx.id, err: err instanceof Error ? err.message : String(err), fallback: r.onError }, 'redis rate limit store unavailable');
            }
            if (r.onError === 'deny') return UNAVAILABLE;
            const d = local.take(key, now());
            return decide(req, d.allowed, d.counts, d.starts, now(), layout, windowsMs, limits, hide);
          },
        );
      },
    };
  }

  return {
    onRequest(req) {
      const t = now();
      const d = local.take(keyOf(req), t);
      return decide(req, d.allowed, d.counts, d.starts, t, layout, windowsMs, limits, hide);
    },
  };
}

function decide(
  req: PluginRequest, allowed: boolean, counts: readonly number[], starts: readonly number[], now: number,
  layout: HeaderLayout, windowsMs: readonly number[], limits: readonly number[], hide: boolean,
): HookResult {
  if (allowed) {
    if (!hide) req.addResponseLines(rateLimitLines(layout, windowsMs, limits, counts, starts, now));
    return undefined;
  }
  return answer(429, 'RATE_LIMITED', 'API rate limit exceeded', limitedHeaders(layout, windowsMs, limits, counts, starts, now, hide));
}

function keyFunction(config: RateLimitConfig, trusted: CidrSet | undefined): (req: PluginRequest) => string {
  switch (config.limitBy) {
    case 'route':
      return (req) => req.routeId;
    case 'ip':
      return (req) => clientAddress(req, trusted);
    case 'header': {
      const name = config.header ?? '';
      return (req) => {
        const v = req.headers[name];
        const s = Array.isArray(v) ? v[0] : v;
        // The prefix keeps a client-chosen value from spending an address's budget.
        return s === undefined || s === '' ? clientAddress(req, trusted) : `h:${s}`;
      };
    }
    case 'consumer':
    default:
      // Raw values, no prefix: no string is built per request. Consumer names are chosen by
      // the operator, so one that looks like an IP address is the only way to collide.
      return (req) => req.consumer ?? clientAddress(req, trusted);
  }
}
