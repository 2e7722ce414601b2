/**
 * Upstream connection pools. One keep-alive pool per endpoint and protocol, shared by every
 * table that references it, so a table swap never re-opens upstream connections. Pools that no
 * table references any more are closed after a grace period (in-flight requests of an old table
 * still hold them); a pool referenced again within the grace is kept.
 *
 * HTTP/1.1 backends use the proxy's own client (h1-client.ts); h2c backends use undici, behind
 * the same UpstreamPool interface.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import type { BackendProtocol, Endpoint } from '../ir/index.ts';
import { H1Pool, type UpstreamControl, type UpstreamHandler, type UpstreamPool, type UpstreamRequest } from './h1-client.ts';
import { buildDownstreamHeaders } from './headers.ts';
import type { ProxyLimits } from './limits.ts';
import type { ProxyLogger } from './logger.ts';

export type { UpstreamControl, UpstreamHandler, UpstreamPool, UpstreamRequest } from './h1-client.ts';

/** Bound of a response's silence on routes without timeouts (a dead peer), as before with undici. */
const RESPONSE_TIMEOUT_MS = 300_000;
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

export function poolKey(protocol: BackendProtocol, ep: Endpoint): string {
  return `${protocol === 'h2c' ? 'h2c' : 'http1'}|${ep.address}|${ep.port}`;
}

export function originOf(ep: Endpoint): string {
  return ep.address.includes(':') ? `http://[${ep.address}]:${ep.port}` : `http://${ep.address}:${ep.port}`;
}

/** Response headers as the handler wants them: a flat list without hop-by-hop headers. */
function downstreamList(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  const obj = buildDownstreamHeaders(headers, true);
  for (const name in obj) {
    const v = obj[name]!;
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else out.push(name, v);
  }
  return out;
}

function trailerList(trailers: IncomingHttpHeaders | undefined): string[] | null {
  let out: string[] | null = null;
  for (const name in trailers) {
    const v = trailers[name];
    // Only non-framing trailers are forwarded (gRPC status lives here).
    if (v === undefined || name === 'content-length' || name === 'transfer-encoding' || name.charCodeAt(0) === 58) continue;
    if (Array.isArray(v)) for (const x of v) (out ??= []).push(name, x);
    else (out ??= []).push(name, v);
  }
  return out;
}

class UndiciAdapter implements Dispatcher.DispatchHandler {
  readonly h: UpstreamHandler;
  constructor(h: UpstreamHandler) {
    this.h = h;
  }
  onRequestStart(c: Dispatcher.DispatchController): void {
    this.h.onRequestStart(c as UpstreamControl);
  }
  onResponseStart(c: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.h.onResponseStart(c, status, downstreamList(headers), true);
  }
  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.h.onResponseData(c, chunk);
  }
  onResponseEnd(c: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.h.onResponseEnd(c, trailerList(trailers), null);
  }
  onResponseError(c: Dispatcher.DispatchController, err: Error): void {
    this.h.onResponseError(c, err);
  }
}

/** h2c backends: an undici Pool (HTTP/2 prior knowledge) behind the UpstreamPool interface. */
class UndiciUpstream implements UpstreamPool {
  readonly pool: Pool;
  constructor(pool: Pool) {
    this.pool = pool;
  }
  dispatch(req: UpstreamRequest, handler: UpstreamHandler): void {
    this.pool.dispatch({ method: req.method, path: req.target, headers: req.headerObject(), body: req.body }, new UndiciAdapter(handler));
  }
  close(): Promise<void> {
    return this.pool.close();
  }
  destroy(): Promise<void> {
    return this.pool.destroy();
  }
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
  acquire(protocol: BackendProtocol, ep: Endpoint): UpstreamPool {
    const key = poolKey(protocol, ep);
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
      const p = new Pool(originOf(ep), {
        connect: { timeout: this.#limits.upstreamConnectTimeoutMs },
        // Route timeouts (IR Timeouts) are enforced by the exchange; these only bound a dead
        // peer on routes without timeouts.
        headersTimeout: RESPONSE_TIMEOUT_MS,
        bodyTimeout: RESPONSE_TIMEOUT_MS,
        allowH2: true,
        // Pool builds the connector itself and reads useH2c only at the top level (not in
        // the Options type).
        ...{ useH2c: true },
      });
      p.on('connectionError', (_origin, _targets, err) => {
        this.#logger.debug({ endpoint: key, err: err.message }, 'upstream connection error');
      });
      pool = new UndiciUpstream(p);
    } else {
      pool = new H1Pool(ep.address, ep.port, {
        connectTimeoutMs: this.#limits.upstreamConnectTimeoutMs,
        keepAliveTimeoutMs: this.#limits.upstreamKeepAliveTimeoutMs,
        responseTimeoutMs: RESPONSE_TIMEOUT_MS,
        maxHeaderBytes: MAX_RESPONSE_HEAD_BYTES,
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
