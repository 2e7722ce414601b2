/**
 * Bound sockets, one per IR Listener (address, port, protocol). A socket serves HTTP/1.1 and
 * HTTP/2 (h2c prior knowledge on plain sockets, ALPN on TLS sockets) by handing each accepted
 * connection to a node:http or node:http2 server that never listens itself.
 *
 * Apply keeps every socket whose (address, port, protocol) is unchanged and only swaps the
 * compiled listener it serves, so no idle keep-alive connection is dropped by a reload. Sockets
 * no longer in the table stop accepting, answer in-flight requests with `connection: close`
 * (HTTP/2: GOAWAY), and are destroyed after `drainTimeoutMs` at the latest.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { ListenerApplyResult } from '../ir/index.ts';
import type { BindingState } from './binding-state.ts';
import { newRequestId, rawError, rawErrorResponse, type ErrorCode } from './errors.ts';
import { handleRequest } from './exchange.ts';
import { H2Request, H2Response } from './h2-stream.ts';
import { serveH1, type H1Connection, type H1Handlers } from './h1-server.ts';
import type { ProxyLimits } from './limits.ts';
import type { ProxyLogger } from './logger.ts';
import { listenerKey, type CompiledListener, type CompiledTable } from './router.ts';
import { sniffH2c } from './sniff-h2c.ts';
import { buildTlsState, contextOptions, SecureContextCache, type TlsState } from './tls.ts';
import { verifyClientCertificate } from './client-verify.ts';
import { DatagramBinding, StreamBinding, type SocketBinding } from './stream-listeners.ts';
import { handleUpgrade, isWebSocketUpgrade } from './websocket.ts';

class Binding implements BindingState, SocketBinding {
  listener: CompiledListener;
  readonly secure: boolean;
  closing = false;
  readonly limits: ProxyLimits;
  readonly logger: ProxyLogger;
  readonly key: string;
  readonly server: NetServer | TlsServer;
  /** node:http's server, when FLUXGATE_H1_SERVER=node asks for it instead of ours. */
  readonly h1: HttpServer | undefined;
  readonly h1Handlers: H1Handlers;
  /** Our HTTP/1.1 connections (closed when idle on drain). */
  readonly h1Conns = new Set<H1Connection>();
  readonly h2: Http2Server;
  readonly sockets = new Set<Socket>();
  readonly sessions = new Set<Http2Session>();
  tls: TlsState | undefined;
  defaultContextKey: string | undefined;
  boundPort = 0;

  constructor(listener: CompiledListener, limits: ProxyLimits, logger: ProxyLogger) {
    this.listener = listener;
    this.key = listener.key;
    this.secure = listener.source.protocol === 'HTTPS';
    this.limits = limits;
    this.logger = logger;
    this.h1 = OWN_H1 ? undefined : createH1Server(this);
    this.h1Handlers = h1Handlers(this);
    this.h2 = createH2Server(this);
    if (this.secure) {
      const tlsServer = createTlsServer({
        SNICallback: (servername, cb) => {
          const tls = this.tls;
          const id = this.listener.selectGatewayListener(servername);
          cb(null, (id !== undefined ? tls?.byListener.get(id) : undefined) ?? tls?.fallback);
        },
        ALPNProtocols: ['h2', 'http/1.1'],
        minVersion: 'TLSv1.2',
        handshakeTimeout: limits.headersTimeoutMs,
        // Client certificates (when a listener validates them) are checked per Gateway
        // listener after the handshake, since listeners with and without validation can
        // share this socket.
        rejectUnauthorized: false,
      });
      tlsServer.on('secureConnection', (socket: TLSSocket) => {
        if (!this.clientAllowed(socket)) {
          socket.destroy();
          return;
        }
        if (socket.alpnProtocol === 'h2') this.h2.emit('connection', socket);
        else this.serveHttp1(socket);
      });
      tlsServer.on('tlsClientError', (err) => logger.debug({ listener: this.key, err: err.message }, 'TLS handshake failed'));
      tlsServer.on('connection', (s: Socket) => this.track(s));
      this.server = tlsServer;
    } else {
      const netServer = createNetServer({ noDelay: true });
      netServer.on('connection', (socket: Socket) => {
        this.track(socket);
        socket.on('error', () => socket.destroy());
        sniffH2c(socket, limits.headersTimeoutMs, (proto) => {
          // node:http2 feeds the unshifted bytes to its session itself (it reads the socket's
          // buffer on the next tick); an HTTP/1.x server needs the socket flowing again.
          if (proto === 'h2c') this.h2.emit('connection', socket);
          else {
            this.serveHttp1(socket);
            socket.resume();
          }
        });
      });
      this.server = netServer;
    }
  }

  /**
   * Gateway API frontend validation: the listener the handshake selected (SNI, else the default
   * context's) with mode AllowValidOnly admits only a client whose certificate verified against
   * its CA; AllowInsecureFallback admits every client.
   */
  clientAllowed(socket: TLSSocket): boolean {
    const tls = this.tls;
    if (tls === undefined || tls.validation.size === 0) return true;
    const sni = socket.servername;
    const selected = typeof sni === 'string' && sni !== '' ? this.listener.selectGatewayListener(sni) : undefined;
    const id = selected !== undefined && tls.byListener.has(selected) ? selected : tls.fallbackId;
    const v = id === undefined ? undefined : tls.validation.get(id);
    if (v === undefined || v.mode === 'AllowInsecureFallback') return true;
    const err = verifyClientCertificate(socket, v.cas);
    if (err === undefined) return true;
    this.logger.debug({ listener: this.key, gatewayListener: id, err }, 'client certificate rejected');
    return false;
  }

  track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  updateTls(cache: SecureContextCache): void {
    if (!this.secure) return;
    const l = this.listener.source;
    this.tls = buildTlsState(l, cache);
    // Clients without SNI get the socket's default context: the first listener's certificate.
    const first = l.gatewayListeners.find((gl) => this.tls!.byListener.has(gl.id));
    const certs = first?.certificates;
    const key = certs === undefined ? undefined : certs.map((c) => c.id + c.certPem.length + c.certPem.slice(-64)).join('|');
    const server = this.server as TlsServer & { requestCert: boolean };
    if (certs !== undefined && key !== this.defaultContextKey) {
      try {
        server.setSecureContext(contextOptions(certs));
        this.defaultContextKey = key;
      } catch {
        try {
          server.setSecureContext(contextOptions(certs.slice(0, 1)));
          this.defaultContextKey = key;
        } catch (err) {
          this.logger.warn({ listener: this.key, err: (err as Error).message }, 'default certificate rejected');
        }
      }
    }
    // Read by node:tls for each new connection: ask for client certificates only on sockets
    // where some listener validates them (a request makes browsers show a certificate picker).
    server.requestCert = this.tls.validation.size > 0;
  }

  listen(): Promise<void> {
    const l = this.listener.source;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: l.address === '' ? undefined : l.address, port: l.port }, () => {
        this.server.removeListener('error', onError);
        this.server.on('error', (err) => this.logger.error({ listener: this.key, err: err.message }, 'listener error'));
        const addr = this.server.address();
        this.boundPort = typeof addr === 'object' && addr !== null ? addr.port : l.port;
        resolve();
      });
    });
  }

  /** An HTTP/1.x connection (plain, or TLS with ALPN http/1.1 or none). */
  serveHttp1(socket: Socket): void {
    if (this.h1 !== undefined) {
      this.h1.emit('connection', socket);
      return;
    }
    const c = serveH1(socket, this.limits, this.h1Handlers);
    this.h1Conns.add(c);
    socket.once('close', () => this.h1Conns.delete(c));
  }

  closeIdleHttp1(): void {
    this.h1?.closeIdleConnections();
    for (const c of this.h1Conns) if (c.idle) c.close(false);
  }

  /** Stop accepting, let in-flight requests finish, destroy what is left after the bound. */
  drain(): Promise<void> {
    this.closing = true;
    this.server.close();
    for (const s of this.sessions) s.close();
    this.closeIdleHttp1();
    return new Promise((resolve) => {
      const deadline = Date.now() + this.limits.drainTimeoutMs;
      const tick = (): void => {
        this.closeIdleHttp1();
        if (this.sockets.size === 0 || Date.now() >= deadline) {
          for (const s of this.sockets) s.destroy();
          for (const s of this.sessions) s.destroy();
          // Stops the h1 server's connection-check interval; it never listened, so ignore the error.
          this.h1?.close(() => {});
          return resolve();
        }
        setTimeout(tick, 50).unref();
      };
      tick();
    });
  }
}

/**
 * HTTP/1.1 is served by our own server (h1-server.ts); FLUXGATE_H1_SERVER=node switches back to
 * node:http's, as an escape hatch and for comparisons.
 */
const OWN_H1 = process.env.FLUXGATE_H1_SERVER !== 'node';

function h1Handlers(b: Binding): H1Handlers {
  return {
    request: (req, res) => handleRequest(b, req, res),
    isUpgrade: (head) => isWebSocketUpgrade(head),
    upgrade: (req, socket, head) => handleUpgrade(b, req, socket, head),
    refusal: (status, code, message) => {
      b.logger.debug({ listener: b.key, status, code, err: message }, 'client error');
      return rawError(status, code, message, newRequestId());
    },
  };
}

function createH1Server(b: Binding): HttpServer {
  const limits = b.limits;
  const server = createHttpServer({
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often slow clients are checked: bounds how late a slowloris socket is closed.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    requireHostHeader: true,
    noDelay: true,
    shouldUpgradeCallback: isWebSocketUpgrade,
  });
  // One more than the limit, so an over-limit request is visible (and rejected) instead of
  // silently truncated by node.
  server.maxHeadersCount = limits.maxHeaderCount + 1;
  // This server never listens itself (sockets are handed to it), but node starts its
  // connection tracking (headersTimeout/requestTimeout checks, closeIdleConnections) on
  // 'listening': without this, slow clients would never be timed out.
  server.emit('listening');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => handleRequest(b, req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => handleUpgrade(b, req, socket, head));
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    let code: ErrorCode = 'BAD_REQUEST';
    if (err.code === 'HPE_HEADER_OVERFLOW') code = 'HEADERS_TOO_LARGE';
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') code = 'CLIENT_TIMEOUT';
    b.logger.debug({ listener: b.key, err: err.code ?? err.message }, 'client error');
    if (socket.writable && (err.code !== 'ECONNRESET')) socket.end(rawErrorResponse(code, newRequestId()));
    socket.destroy();
  });
  return server;
}

function ignoreStreamError(): void {}

function createH2Server(b: Binding): Http2Server {
  const limits = b.limits;
  const server = createHttp2Server({
    maxSessionMemory: limits.http2MaxSessionMemoryMb,
    maxHeaderListPairs: limits.maxHeaderCount + 8,
    settings: {
      maxConcurrentStreams: limits.http2MaxConcurrentStreams,
      maxHeaderListSize: limits.maxHeaderSize,
      enablePush: false,
    },
    streamResetBurst: limits.http2StreamResetBurst,
    streamResetRate: limits.http2StreamResetRate,
    maxSessionRejectedStreams: 100,
    maxSessionInvalidFrames: 1000,
  });
  // The core stream API, not the compat 'request' event (see h2-stream.ts).
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
    // A reset stream emits 'error'; the exchange learns of it from 'close'.
    stream.on('error', ignoreStreamError);
    handleRequest(b, new H2Request(stream, headers, rawHeaders), new H2Response(stream));
  });
  server.on('session', (session: Http2Session) => {
    b.sessions.add(session);
    session.once('close', () => b.sessions.delete(session));
    session.on('error', () => session.destroy());
    if (limits.idleTimeoutMs > 0) session.setTimeout(limits.idleTimeoutMs, () => session.close());
    if (b.closing) session.close();
  });
  server.on('sessionError', (err) => b.logger.debug({ listener: b.key, err: err.message }, 'http2 session error'));
  return server;
}

export class ListenerManager {
  readonly #bindings = new Map<string, SocketBinding>();
  readonly #draining = new Set<Promise<void>>();
  readonly #limits: ProxyLimits;
  readonly #logger: ProxyLogger;
  readonly #contexts = new SecureContextCache();

  constructor(limits: ProxyLimits, logger: ProxyLogger) {
    this.#limits = limits;
    this.#logger = logger;
  }

  async apply(table: CompiledTable): Promise<ListenerApplyResult[]> {
    const removed: SocketBinding[] = [];
    for (const [key, b] of this.#bindings) {
      if (!table.listeners.has(key)) {
        this.#bindings.delete(key);
        removed.push(b);
      }
    }
    for (const b of removed) this.#drain(b);
    // Let the closed listening handles release their ports before a new socket binds them.
    if (removed.length > 0) await new Promise((r) => setImmediate(r));

    this.#contexts.begin();
    const errors = new Map<string, string>();
    for (const [key, cl] of table.listeners) {
      if (this.#bindings.has(key)) continue;
      const b = createBinding(cl, this.#limits, this.#logger);
      b.updateTls(this.#contexts);
      try {
        await listenWithRetry(b);
        this.#bindings.set(key, b);
      } catch (err) {
        const e = err as Error & { code?: string };
        errors.set(key, e.code ?? e.message);
        this.#logger.error({ listener: cl.id, err: e.message }, 'listener failed to bind');
      }
    }
    // The swap: synchronous across all kept sockets, so the table changes atomically.
    for (const [key, b] of this.#bindings) {
      const cl = table.listeners.get(key)!;
      if (b.listener !== cl) {
        b.listener = cl;
        b.updateTls(this.#contexts);
      }
    }
    this.#contexts.sweep();

    const results: ListenerApplyResult[] = [];
    for (const l of table.source.listeners) {
      const key = listenerKey(l);
      const b = this.#bindings.get(key);
      if (b === undefined) {
        results.push({ id: l.id, bound: false, error: errors.get(key) ?? 'not bound' });
        continue;
      }
      const certErrors = b.tls?.errors ?? [];
      results.push({
        id: l.id,
        bound: true,
        boundPort: b.boundPort,
        ...(certErrors.length > 0 ? { certificateErrors: certErrors } : {}),
      });
    }
    return results;
  }

  #drain(b: SocketBinding): void {
    const p = b.drain().finally(() => this.#draining.delete(p));
    this.#draining.add(p);
  }

  async closeAll(): Promise<void> {
    for (const b of this.#bindings.values()) this.#drain(b);
    this.#bindings.clear();
    await Promise.all([...this.#draining]);
  }
}

/** HTTP(S) sockets serve requests; TLS, TCP and UDP sockets forward streams (stream-listeners.ts). */
function createBinding(cl: CompiledListener, limits: ProxyLimits, logger: ProxyLogger): SocketBinding {
  switch (cl.source.protocol) {
    case 'TLS':
    case 'TCP': return new StreamBinding(cl, limits, logger);
    case 'UDP': return new DatagramBinding(cl, limits, logger);
    default: return new Binding(cl, limits, logger);
  }
}

/** EADDRINUSE right after a removed socket on the same port closed is transient: retry briefly. */
async function listenWithRetry(b: SocketBinding): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await b.listen();
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EADDRINUSE' || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
