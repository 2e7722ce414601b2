/**
 * Upstream connection pools. One keep-alive pool per endpoint and protocol, shared by every
 * table that references it, so a table swap never re-opens upstream connections. Pools that no
 * table references any more are closed after a grace period (in-flight requests of an old table
 * still hold them); a pool referenced again within the grace is kept.
 *
 * HTTP/1.1 backends use the proxy's own client (h1-client.ts), h2c backends the one on
 * node:http2 (h2c-client.ts), behind the same UpstreamPool interface.
 */
import type { BackendProtocol, BackendTls, Endpoint } from '../ir/index.ts';
import { backendTlsKey, backendTlsOptions } from './backend-tls.ts';
import { H1Pool, type UpstreamPool } from './h1-client.ts';
import { H2cPool } from './h2c-client.ts';
import type { ProxyLimits } from './limits.ts';
import type { ProxyLogger } from './logger.ts';

export type { UpstreamControl, UpstreamHandler, UpstreamPool, UpstreamRequest } from './h1-client.ts';

/** Bound of a response's silence on routes without timeouts (a dead peer), as before with undici. */
const RESPONSE_TIMEOUT_MS = 300_000;
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;
/**
 * An h2c session silent this long is closed when it has no streams (servers keep theirs longer),
 * else pinged; no PING answer within H2C_PING_TIMEOUT_MS: the peer is dead.
 */
const H2C_IDLE_TIMEOUT_MS = 60_000;
const H2C_PING_TIMEOUT_MS = 20_000;

export function poolKey(protocol: BackendProtocol, ep: Endpoint): string {
  return `${protocol === 'h2c' ? 'h2c' : 'http1'}|${ep.address}|${ep.port}`;
}

export function originOf(ep: Endpoint): string {
  return ep.address.includes(':') ? `http://[${ep.address}]:${ep.port}` : `http://${ep.address}:${ep.port}`;
}

interface Entry {
  readonly pool: UpstreamPool;
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
  acquire(protocol: BackendProtocol, ep: Endpoint, tls?: BackendTls): UpstreamPool {
    const key = poolKey(protocol, ep) + backendTlsKey(tls);
    const found = this.#pools.get(key);
    if (found !== undefined) {
      if (found.closeTimer !== undefined) {
        clearTimeout(found.closeTimer);
        found.closeTimer = undefined;
      }
      return found.pool;
    }
    let pool: UpstreamPool;
    if (protocol === 'h2c') {
      pool = new H2cPool(ep.address, ep.port, {
        connectTimeoutMs: this.#limits.upstreamConnectTimeoutMs,
        // Route timeouts (IR Timeouts) are enforced by the exchange; the PING only finds a dead
        // peer on routes without timeouts (silent streams are fine: gRPC watches).
        pingTimeoutMs: H2C_PING_TIMEOUT_MS,
        idleTimeoutMs: H2C_IDLE_TIMEOUT_MS,
        maxHeaderBytes: MAX_RESPONSE_HEAD_BYTES,
        logger: this.#logger,
      });
    } else {
      pool = new H1Pool(ep.address, ep.port, {
        connectTimeoutMs: this.#limits.upstreamConnectTimeoutMs,
        keepAliveTimeoutMs: this.#limits.upstreamKeepAliveTimeoutMs,
        responseTimeoutMs: RESPONSE_TIMEOUT_MS,
        maxHeaderBytes: MAX_RESPONSE_HEAD_BYTES,
        // Only HTTP/1.1 backends get TLS: the translator never sets it on another protocol.
        ...(tls === undefined ? {} : { tls: backendTlsOptions(tls) }),
      });
    }
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
