/**
 * Upstream connection pools (undici). One keep-alive Pool per endpoint and protocol, shared by
 * every table that references it, so a table swap never re-opens upstream connections. Pools
 * that no table references any more are closed after a grace period (in-flight requests of an
 * old table still hold them); a pool referenced again within the grace is kept.
 */
import { Pool } from 'undici';
import type { BackendProtocol, Endpoint } from '../ir/index.ts';
import type { ProxyLimits } from './limits.ts';
import type { ProxyLogger } from './logger.ts';

export function poolKey(protocol: BackendProtocol, ep: Endpoint): string {
  return `${protocol === 'h2c' ? 'h2c' : 'http1'}|${ep.address}|${ep.port}`;
}

export function originOf(ep: Endpoint): string {
  return ep.address.includes(':') ? `http://[${ep.address}]:${ep.port}` : `http://${ep.address}:${ep.port}`;
}

interface Entry {
  readonly pool: Pool;
  closeTimer: NodeJS.Timeout | undefined;
}

export class UpstreamPools {
  readonly #pools = new Map<string, Entry>();
  readonly #limits: ProxyLimits;
  readonly #logger: ProxyLogger;

  constructor(limits: ProxyLimits, logger: ProxyLogger) {
    this.#limits = limits;
    this.#logger = logger;
  }

  /** The pool for an endpoint; created on first use (apply time), never on the request path. */
  acquire(protocol: BackendProtocol, ep: Endpoint): Pool {
    const key = poolKey(protocol, ep);
    const found = this.#pools.get(key);
    if (found !== undefined) {
      if (found.closeTimer !== undefined) {
        clearTimeout(found.closeTimer);
        found.closeTimer = undefined;
      }
      return found.pool;
    }
    const h2c = protocol === 'h2c';
    const pool = new Pool(originOf(ep), {
      connect: { timeout: this.#limits.upstreamConnectTimeoutMs },
      // Route timeouts (IR Timeouts) are enforced by the exchange; these only bound a dead peer
      // on routes without timeouts.
      headersTimeout: 300_000,
      bodyTimeout: 300_000,
      allowH2: h2c,
      // Pool builds the connector itself and reads useH2c only at the top level.
      ...(h2c ? { useH2c: true } : {}),
    });
    pool.on('connectionError', (_origin, _targets, err) => {
      this.#logger.debug({ endpoint: key, err: err.message }, 'upstream connection error');
    });
    this.#pools.set(key, { pool, closeTimer: undefined });
    return pool;
  }

  /** After an apply: schedule closing of every pool whose key the new table does not use. */
  retain(keys: ReadonlySet<string>): void {
    for (const [key, entry] of this.#pools) {
      if (keys.has(key) || entry.closeTimer !== undefined) continue;
      entry.closeTimer = setTimeout(() => {
        this.#pools.delete(key);
        entry.pool.close().catch(() => entry.pool.destroy().catch(() => {}));
      }, this.#limits.poolGraceMs);
      entry.closeTimer.unref();
    }
  }

  get size(): number {
    return this.#pools.size;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(
      all.map(async (e) => {
        if (e.closeTimer !== undefined) clearTimeout(e.closeTimer);
        await e.pool.close().catch(() => e.pool.destroy());
      }),
    );
  }
}
