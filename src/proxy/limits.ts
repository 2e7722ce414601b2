/**
 * Resource limits of the data plane. The defaults are production-safe: every client-facing
 * resource (header bytes, header count, time to send headers, streams per connection, memory per
 * HTTP/2 session) is capped, so one slow or hostile client cannot hold the proxy hostage.
 */

export interface ProxyLimits {
  /** Max bytes of request headers (HTTP/1.1 head, HTTP/2 header list). Larger: 431. */
  readonly maxHeaderSize: number;
  /** Max number of request header fields. More: 431. */
  readonly maxHeaderCount: number;
  /** A client must send the complete request head within this time (slowloris guard). */
  readonly headersTimeoutMs: number;
  /** A client must send the complete request (head and body) within this time; 0 disables. */
  readonly requestTimeoutMs: number;
  /** Idle time an HTTP/1.1 keep-alive connection is kept open between requests. */
  readonly keepAliveTimeoutMs: number;
  /** Idle time after which an HTTP/2 session or an upgraded (WebSocket) tunnel is closed. */
  readonly idleTimeoutMs: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to HTTP/2 clients. */
  readonly http2MaxConcurrentStreams: number;
  /** Per HTTP/2 session memory cap in MiB (node:http2 maxSessionMemory). */
  readonly http2MaxSessionMemoryMb: number;
  /** Rapid-reset guard: RST_STREAM burst allowed before the session is torn down. */
  readonly http2StreamResetBurst: number;
  /** Rapid-reset guard: sustained RST_STREAM rate (per second) allowed. */
  readonly http2StreamResetRate: number;
  /** How long a closing socket (removed listener, proxy close) may take to drain in-flight requests. */
  readonly drainTimeoutMs: number;
  /** How long an upstream pool no table references is kept before it is closed. */
  readonly poolGraceMs: number;
  /** Time to connect to an upstream endpoint. */
  readonly upstreamConnectTimeoutMs: number;
  /**
   * Idle time an upstream keep-alive connection is kept (HTTP/1.1 backends); shortened by the
   * backend's `Keep-Alive: timeout=N` hint. Below the common server defaults (node 5 s), so the
   * proxy, not the server, closes idle connections.
   */
  readonly upstreamKeepAliveTimeoutMs: number;
  /** Max bytes of request body buffered for a mirror before the mirror copy is abandoned. */
  readonly maxMirrorBufferBytes: number;
  /**
   * A UDP client session (client address and port → one backend endpoint) is forgotten after
   * this long without a datagram either way; the client's next datagram starts a new one.
   */
  readonly udpSessionIdleTimeoutMs: number;
  /** UDP client sessions per socket; datagrams of new clients beyond it are dropped. */
  readonly maxUdpSessions: number;
}

export const DEFAULT_LIMITS: ProxyLimits = Object.freeze({
  maxHeaderSize: 16 * 1024,
  maxHeaderCount: 100,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 60_000,
  idleTimeoutMs: 300_000,
  http2MaxConcurrentStreams: 100,
  http2MaxSessionMemoryMb: 10,
  http2StreamResetBurst: 1000,
  http2StreamResetRate: 33,
  drainTimeoutMs: 10_000,
  poolGraceMs: 30_000,
  upstreamConnectTimeoutMs: 5_000,
  upstreamKeepAliveTimeoutMs: 4_000,
  maxMirrorBufferBytes: 1024 * 1024,
  udpSessionIdleTimeoutMs: 60_000,
  maxUdpSessions: 16_384,
});

/** Merge user overrides over the defaults; non-finite or negative values fall back to the default. */
export function resolveLimits(overrides: Partial<ProxyLimits> | undefined): ProxyLimits {
  if (overrides === undefined) return DEFAULT_LIMITS;
  const out: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(overrides)) {
    if (k in DEFAULT_LIMITS && typeof v === 'number' && Number.isFinite(v) && v >= 0) out[k] = v;
  }
  // node:http requires headersTimeout <= requestTimeout when the latter is set.
  if (out.requestTimeoutMs! > 0 && out.requestTimeoutMs! < out.headersTimeoutMs!) {
    out.requestTimeoutMs = out.headersTimeoutMs!;
  }
  return Object.freeze(out) as unknown as ProxyLimits;
}
