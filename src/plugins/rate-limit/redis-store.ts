// Counters shared by every replica through one Redis. One Lua script per request checks every
// window and increments them only if all have room: atomic on the server (scripts run alone),
// so two replicas can never both take the last slot. Window starts come from the Redis
// server's clock (TIME), so replicas with skewed clocks still agree on window boundaries.
import { Redis } from 'ioredis';
import type { RedisConfig } from './config.ts';

const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[1])
local keys, counts, starts = {}, {}, {}
local allowed = 1
for i = 1, n do
  local w = tonumber(ARGV[2 * i])
  local start = now - (now % w)
  starts[i] = start
  keys[i] = KEYS[1] .. ':' .. w .. ':' .. start
  counts[i] = tonumber(redis.call('GET', keys[i]) or '0')
  if counts[i] >= tonumber(ARGV[2 * i + 1]) then allowed = 0 end
end
if allowed == 1 then
  for i = 1, n do
    counts[i] = redis.call('INCR', keys[i])
    if counts[i] == 1 then redis.call('PEXPIRE', keys[i], tonumber(ARGV[2 * i]) + 1000) end
  end
end
local out = {allowed, now}
for i = 1, n do out[#out + 1] = counts[i]; out[#out + 1] = starts[i] end
return out
`;

export interface RedisDecision {
  readonly allowed: boolean;
  readonly now: number;
  readonly counts: readonly number[];
  readonly starts: readonly number[];
}

type WithScript = Redis & {
  fluxgateRateLimit(key: string, ...args: (string | number)[]): Promise<number[]>;
};

/** One connection per Redis address, shared by every policy that uses it. */
export class RedisCounters {
  readonly client: WithScript;

  constructor(cfg: RedisConfig) {
    const client = new Redis({
      host: cfg.host,
      port: cfg.port,
      db: cfg.db,
      // Fail fast instead of queueing: a request must not wait for Redis to come back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: cfg.timeoutMs,
      connectTimeout: Math.max(cfg.timeoutMs, 1000),
      retryStrategy: (times: number) => Math.min(100 * times, 2000),
      lazyConnect: false,
    });
    // Errors surface per command (and then fall back); connection errors are retried quietly.
    client.on('error', () => {});
    client.defineCommand('fluxgateRateLimit', { numberOfKeys: 1, lua: SCRIPT });
    this.client = client as WithScript;
  }

  async take(key: string, windows: readonly number[], limits: readonly number[]): Promise<RedisDecision> {
    const args: (string | number)[] = [windows.length];
    for (let i = 0; i < windows.length; i++) args.push(windows[i]!, limits[i]!);
    const out = await this.client.fluxgateRateLimit(key, ...args);
    const counts: number[] = [], starts: number[] = [];
    for (let i = 0; i < windows.length; i++) {
      counts.push(Number(out[2 + 2 * i]));
      starts.push(Number(out[3 + 2 * i]));
    }
    return { allowed: Number(out[0]) === 1, now: Number(out[1]), counts, starts };
  }

  close(): void {
    this.client.disconnect();
  }
}
