/**
 * Active health checks (IR Backend.healthCheck): one probe loop per endpoint and check config,
 * shared by every backend and table that use the same pair, so a reload neither restarts the
 * counting nor puts an endpoint that is down back into rotation.
 *
 * - A probe is one GET of `path` (HTTP/1.1, or HTTP/2 prior knowledge for h2c backends) that
 *   passes when the response head arrives within `timeoutMs` with an expected status.
 * - `unhealthyThreshold` consecutive failures take a healthy endpoint out of load balancing;
 *   `healthyThreshold` consecutive passes bring it back. Endpoints start healthy: a new table
 *   must not stop traffic to endpoints that nobody has probed yet (the first probe runs at once).
 * - The balancer skips unhealthy endpoints. When every endpoint of a backend is unhealthy, it
 *   routes to all of them (Envoy's panic mode): that state more often means a wrong probe or a
 *   dependency of the health endpoint than a service that cannot answer anything.
 * - Probes run only while the serving table uses them: `sync()` after each apply stops every
 *   loop the new table does not need, and `close()` stops all (no timer outlives the proxy).
 * - The next probe of an endpoint starts `intervalMs` (±5 %, so many endpoints do not probe in
 *   lockstep) after the previous one ended: a slow endpoint is never probed twice at once.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import type { Backend, BackendProtocol, Endpoint, HealthCheck } from '../ir/index.ts';
import type { ProxyLogger } from './logger.ts';

/** What the balancer reads: one flag per endpoint, updated in place by the probe loop. */
export interface EndpointHealth {
  readonly healthy: boolean;
}

interface Group {
  readonly backendId: string;
  readonly probes: readonly Probe[];
  panicking: boolean;
}

const USER_AGENT = 'fluxgate-health-check';

class Probe implements EndpointHealth {
  healthy = true;
  passes = 0;
  failures = 0;
  /** Completed probes, for tests and diagnostics. */
  probes = 0;
  groups: Group[] = [];
  private timer: NodeJS.Timeout | undefined;
  private cancel: (() => void) | undefined;
  private stopped = false;
  readonly protocol: BackendProtocol;
  readonly endpoint: Endpoint;
  readonly check: HealthCheck;
  readonly name: string;
  readonly logger: ProxyLogger;

  constructor(protocol: BackendProtocol, endpoint: Endpoint, check: HealthCheck, logger: ProxyLogger) {
    this.protocol = protocol;
    this.endpoint = endpoint;
    this.check = check;
    this.logger = logger;
    this.name = endpoint.address.includes(':') ? `[${endpoint.address}]:${endpoint.port}` : `${endpoint.address}:${endpoint.port}`;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, ms);
    this.timer.unref();
  }

  private run(): void {
    let settled = false;
    let cleanup: (() => void) | undefined;
    const finish = (passed: boolean, why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      this.cancel = undefined;
      cleanup?.();
      if (this.stopped) return;
      this.probes++;
      this.record(passed, why);
      this.schedule(this.check.intervalMs * (0.95 + Math.random() * 0.1));
    };
    const deadline = setTimeout(() => finish(false, `no response within ${this.check.timeoutMs} ms`), this.check.timeoutMs);
    deadline.unref();
    this.cancel = () => finish(false, 'stopped');
    const judge = (status: number): void => {
      finish(this.check.expectedStatuses.some((r) => status >= r.min && status <= r.max), `status ${status}`);
    };
    const fail = (err: unknown): void => finish(false, err instanceof Error ? err.message : String(err));
    try {
      cleanup = this.protocol === 'h2c' ? this.probeH2c(judge, fail) : this.probeH1(judge, fail);
    } catch (err) {
      fail(err);
    }
    // finish() may have run before cleanup was known.
    if (settled) cleanup?.();
  }

  /** One HTTP/1.1 GET on a fresh connection (probes must not borrow the pool's sockets). */
  private probeH1(judge: (status: number) => void, fail: (err: unknown) => void): () => void {
    const req: ClientRequest = httpRequest({
      host: this.endpoint.address, port: this.endpoint.port, path: this.check.path, method: 'GET', agent: false,
      headers: { host: this.check.host ?? this.name, 'user-agent': USER_AGENT, connection: 'close' },
    }, (res) => {
      res.on('error', () => {});
      res.resume();
      judge(res.statusCode ?? 0);
    });
    req.on('error', fail);
    req.end();
    return () => req.destroy();
  }

  /** One HTTP/2 GET with prior knowledge, on its own session. */
  private probeH2c(judge: (status: number) => void, fail: (err: unknown) => void): () => void {
    const session: ClientHttp2Session = http2Connect(`http://${this.name}`);
    session.on('error', fail);
    const stream = session.request({ ':method': 'GET', ':path': this.check.path, ':authority': this.check.host ?? this.name, 'user-agent': USER_AGENT }, { endStream: true });
    stream.on('response', (headers) => judge(Number(headers[':status'])));
    stream.on('error', fail);
    stream.on('close', () => fail(new Error('stream closed without a response')));
    return () => session.destroy();
  }

  private record(passed: boolean, why: string): void {
    if (passed) {
      this.failures = 0;
      this.passes++;
      if (!this.healthy && this.passes >= this.check.healthyThreshold) {
        this.healthy = true;
        this.logger.info({ endpoint: this.name, check: this.check.id }, 'endpoint passed its health check; back in load balancing');
        for (const g of this.groups) noteGroup(g, this.logger);
      }
      return;
    }
    this.passes = 0;
    this.failures++;
    if (this.healthy && this.failures >= this.check.unhealthyThreshold) {
      this.healthy = false;
      this.logger.warn({ endpoint: this.name, check: this.check.id, failures: this.failures, reason: why }, 'endpoint failed its health check; taken out of load balancing');
      for (const g of this.groups) noteGroup(g, this.logger);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.cancel?.();
    this.cancel = undefined;
  }

  get running(): boolean {
    return !this.stopped;
  }
}

/** Logs entering and leaving panic mode once per transition, never per request. */
function noteGroup(g: Group, logger: ProxyLogger): void {
  const allDown = g.probes.every((p) => !p.healthy);
  if (allDown && !g.panicking) logger.warn({ backend: g.backendId, endpoints: g.probes.length }, 'every endpoint of the backend failed its health check; routing to all of them (panic mode)');
  else if (!allDown && g.panicking) logger.info({ backend: g.backendId }, 'a healthy endpoint is back; panic mode over');
  g.panicking = allDown;
}

function probeKey(protocol: BackendProtocol, ep: Endpoint, check: HealthCheck): string {
  const { id: _id, ...config } = check;
  return `${protocol === 'h2c' ? 'h2c' : 'http1'}|${ep.address}|${ep.port}|${JSON.stringify(config)}`;
}

export interface HealthSnapshot {
  readonly endpoint: string;
  readonly check: string;
  readonly healthy: boolean;
  readonly probes: number;
}

export class HealthChecker {
  readonly #probes = new Map<string, Probe>();
  readonly #logger: ProxyLogger;

  constructor(logger: ProxyLogger) {
    this.#logger = logger;
  }

  /**
   * Makes the running probes exactly those `backends` need, and returns each checked
   * backend's per-endpoint health, aligned with `Backend.endpoints`.
   */
  sync(backends: readonly Backend[]): Map<string, readonly EndpointHealth[]> {
    const out = new Map<string, readonly EndpointHealth[]>();
    const used = new Set<string>();
    for (const p of this.#probes.values()) p.groups = [];
    for (const b of backends) {
      const check = b.healthCheck;
      if (check === undefined || b.endpoints.length === 0) continue;
      const probes = b.endpoints.map((ep) => {
        const key = probeKey(b.protocol, ep, check);
        used.add(key);
        let p = this.#probes.get(key);
        if (p === undefined) {
          p = new Probe(b.protocol, ep, check, this.#logger);
          this.#probes.set(key, p);
        }
        return p;
      });
      const group: Group = { backendId: b.id, probes, panicking: probes.every((p) => !p.healthy) };
      for (const p of probes) p.groups.push(group);
      out.set(b.id, probes);
    }
    for (const [key, p] of this.#probes) {
      if (used.has(key)) continue;
      p.stop();
      this.#probes.delete(key);
    }
    return out;
  }

  /** Running probes (diagnostics and tests). */
  snapshot(): HealthSnapshot[] {
    return [...this.#probes.values()].map((p) => ({ endpoint: p.name, check: p.check.id, healthy: p.healthy, probes: p.probes }));
  }

  get size(): number {
    return this.#probes.size;
  }

  close(): void {
    for (const p of this.#probes.values()) p.stop();
    this.#probes.clear();
  }
}
