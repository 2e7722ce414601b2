// The rate-limit config as the routing table carries it (validated, normalised).
import type { WindowName } from './windows.ts';

export type LimitBy = 'consumer' | 'ip' | 'header' | 'route';

export interface RateLimitConfig {
  /** At least one; sorted from the shortest window to the longest. */
  readonly limits: readonly { readonly window: WindowName; readonly limit: number }[];
  /**
   * What a counter counts: the authenticated consumer, the client IP, a header's value, or
   * every request of the route. Consumer and header fall back to the client IP when the
   * request has none (as Kong does), so an anonymous client cannot escape its limit.
   */
  readonly limitBy: LimitBy;
  /** Lower-case header name when limitBy is `header`. */
  readonly header?: string;
  /** `local`: exact, in this process. `redis`: shared by every replica through one Redis. */
  readonly policy: 'local' | 'redis';
  readonly redis?: RedisConfig;
  /** CIDRs of proxies whose X-Forwarded-For is believed. */
  readonly trustedProxies: readonly string[];
  /** Leave out the X-RateLimit-* and RateLimit-* response headers. */
  readonly hideClientHeaders: boolean;
}

export interface RedisConfig {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  /** Per-command timeout; a slower Redis counts as down for that request. */
  readonly timeoutMs: number;
  /**
   * When Redis cannot answer: `local` keeps limiting with this replica's own exact counters
   * (fail open to local limits: with N replicas a client may get up to N times the limit);
   * `deny` answers 503 (fail closed: nothing passes unlimited, nothing passes at all).
   */
  readonly onError: 'local' | 'deny';
}
