/**
 * The data plane: compiles a RoutingTable (src/ir) and serves it on real sockets: HTTP/1.1,
 * HTTP/2 (h2c prior knowledge and TLS ALPN), TLS with SNI, WebSocket upgrades, weighted
 * backends over keep-alive pools (own HTTP/1.1 and h2c clients), gRPC (proxy-made errors as gRPC
 * status, grpc-timeout deadlines), filters, timeouts and retries; and streams: TLS
 * passthrough by SNI, TLS termination, TCP and UDP forwarding (stream-listeners.ts).
 *
 * Must not: import the translator, the controller or any Kubernetes type; compile anything or
 * scan the route list on the request path; throw from apply() for a bad table (bad parts are
 * reported per listener, and the translator checks regexes with validateRegex beforehand).
 */
import type { ApplyResult, RoutingTable } from '../ir/index.ts';
import type { PluginRuntime } from '../plugins/index.ts';
import { resolveLimits, type ProxyLimits } from './limits.ts';
import { ListenerManager } from './listeners.ts';
import { silentLogger, type ProxyLogger } from './logger.ts';
import { compileTable } from './compile-table.ts';
import type { CompiledTable } from './router.ts';
import { UpstreamPools } from './upstream.ts';
import { HealthChecker, type HealthSnapshot } from './health-check.ts';

export { validateRegex } from './matchers.ts';
export { normalisePath } from './path-normalise.ts';
export { DEFAULT_LIMITS, type ProxyLimits } from './limits.ts';
export type { ProxyLogger, LogFn } from './logger.ts';
export type { HealthSnapshot } from './health-check.ts';

export interface ProxyOptions {
  /** pino-compatible logger; default: silent. */
  readonly logger?: ProxyLogger;
  /** Limits; defaults are production-safe (see limits.ts). */
  readonly limits?: Partial<ProxyLimits>;
  /**
   * Runs plugin filters (src/plugins createPluginRuntime). Without it every plugin filter
   * answers 500 PLUGIN_UNAVAILABLE (fail closed). The caller owns it and closes it.
   */
  readonly plugins?: PluginRuntime;
}

export interface Proxy {
  /**
   * Compile and atomically swap in a table; binds new sockets, closes sockets no longer in the
   * table (gracefully), keeps unchanged ones. Never throws for a bad table: reports per listener.
   * Concurrent calls are applied in call order.
   */
  apply(table: RoutingTable): Promise<ApplyResult>;
  /** The table currently serving. */
  current(): RoutingTable | undefined;
  /** Endpoints under active health checks, with their state. */
  health(): readonly HealthSnapshot[];
  /** Graceful close: stop accepting, let in-flight requests finish (bounded), close pools. */
  close(): Promise<void>;
}

export function createProxy(options: ProxyOptions = {}): Proxy {
  const logger = options.logger ?? silentLogger;
  const limits = resolveLimits(options.limits);
  const pools = new UpstreamPools(limits, logger);
  const listeners = new ListenerManager(limits, logger);
  const checker = new HealthChecker(logger);
  let current: CompiledTable | undefined;
  let lastResult: ApplyResult | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;

  async function doApply(table: RoutingTable): Promise<ApplyResult> {
    if (closed) throw new Error('proxy is closed');
    // An equal table is a no-op, unless a listener failed to bind last time (retry it).
    if (current !== undefined && lastResult !== undefined && table.version === current.version && lastResult.listeners.every((l) => l.bound)) {
      return lastResult;
    }
    let compiled: CompiledTable;
    try {
      options.plugins?.beginCompile();
      try {
        compiled = compileTable(table, pools, logger, options.plugins, current);
      } finally {
        options.plugins?.endCompile();
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      logger.error({ version: table.version, err: message }, 'routing table failed to compile; keeping the previous one');
      return {
        version: current?.version ?? '',
        listeners: table.listeners.map((l) => ({ id: l.id, bound: false, error: `table rejected: ${message}` })),
      };
    }
    // Probes follow the table: new checks start, ones it no longer uses stop.
    for (const [id, health] of checker.sync(table.backends)) {
      const b = compiled.backends.get(id);
      if (b !== undefined) b.endpoints.health = health;
    }
    const results = await listeners.apply(compiled);
    current = compiled;
    pools.retain(compiled.poolKeys);
    lastResult = { version: table.version, listeners: results };
    logger.info({ version: table.version, listeners: results.length }, 'routing table applied');
    return lastResult;
  }

  return {
    apply(table) {
      const p = chain.then(() => doApply(table));
      chain = p.catch(() => {});
      return p;
    },
    current() {
      return current?.source;
    },
    health: () => checker.snapshot(),
    async close() {
      await chain;
      closed = true;
      checker.close();
      await listeners.closeAll();
      await pools.closeAll();
    },
  };
}
