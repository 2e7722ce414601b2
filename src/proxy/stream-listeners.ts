/**
 * Sockets that forward streams instead of HTTP requests (IR Listener.streamRoutes):
 *
 * - TLS: the ClientHello is read (never answered) to get the SNI; the SNI picks the Gateway
 *   listener, then its route. Passthrough listeners forward the client's bytes untouched, the
 *   ClientHello included, so the backend completes the handshake itself. Terminate listeners
 *   complete the handshake here with the listener's certificates and forward plaintext.
 * - TCP: every connection goes to the listener's route.
 * - UDP (DatagramBinding): a session per client address and port, bound to one backend
 *   endpoint through its own connected socket, so replies find their way back to the client.
 *
 * Connections are routed once, when they start: a weighted pick of the route's backendRefs,
 * then round-robin over the backend's endpoints. An invalid share, a backend without
 * endpoints, no route, or a failed dial closes the client connection (Gateway API: rejected).
 *
 * On apply, connections and sessions whose route (Gateway listener and route id) is still in
 * the table keep running on the backend they were given, even if the weights or endpoints
 * changed: cutting a live TCP stream loses data the application cannot replay. Those whose
 * route was removed are closed at once, since a route removal is the user saying that
 * traffic must stop (e.g. a revoked ReferenceGrant or a deleted route).
 */
import { createSocket, type RemoteInfo, type Socket as DgramSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Endpoint } from '../ir/index.ts';
import { MAX_CLIENT_HELLO, parseClientHello } from './client-hello.ts';
import type { ProxyLimits } from './limits.ts';
import type { ProxyLogger } from './logger.ts';
import type { CompiledListener } from './router.ts';
import type { CompiledStreamRoute } from './stream-router.ts';
import { buildTlsState, type SecureContextCache, type TlsState } from './tls.ts';

/** What the listener manager needs of any bound socket. */
export interface SocketBinding {
  listener: CompiledListener;
  readonly key: string;
  boundPort: number;
  readonly tls: TlsState | undefined;
  /** Called after every swap of `listener`: certificates, and connections whose route is gone. */
  updateTls(cache: SecureContextCache): void;
  listen(): Promise<void>;
  drain(): Promise<void>;
}

interface Pipe {
  readonly routeKey: string;
  readonly client: Socket;
  upstream: Socket | undefined;
}

/** Picks where a new connection goes; undefined: reject it (with the reason, for logs). */
function pickEndpoint(route: CompiledStreamRoute | undefined): { endpoint: Endpoint } | { reject: string } {
  if (route === undefined) return { reject: 'NO_ROUTE' };
  const target = route.picker?.pick();
  if (target === undefined) return { reject: 'NO_BACKEND' };
  if (target.kind === 'invalid') return { reject: target.code };
  const endpoint = target.endpoints.pick();
  return endpoint === undefined ? { reject: 'NO_ENDPOINTS' } : { endpoint };
}

export class StreamBinding implements SocketBinding {
  listener: CompiledListener;
  readonly key: string;
  readonly server: Server;
  boundPort = 0;
  tls: TlsState | undefined;
  readonly #limits: ProxyLimits;
  readonly #logger: ProxyLogger;
  readonly #pipes = new Set<Pipe>();
  /** Accepted sockets not yet routed (reading the ClientHello). */
  readonly #pending = new Set<Socket>();

  constructor(listener: CompiledListener, limits: ProxyLimits, logger: ProxyLogger) {
    this.listener = listener;
    this.key = listener.key;
    this.#limits = limits;
    this.#logger = logger;
    // allowHalfOpen: a client that shuts down its sending side still gets the rest of the reply.
    this.server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (socket) => this.#accept(socket));
  }

  updateTls(cache: SecureContextCache): void {
    const l = this.listener.source;
    if (l.protocol === 'TLS') {
      // Only terminating listeners have certificates; passthrough ones must not report errors.
      this.tls = buildTlsState({ ...l, gatewayListeners: l.gatewayListeners.filter((gl) => gl.tlsMode === 'Terminate') }, cache);
    }
    const keys = this.listener.streams?.keys;
    for (const p of this.#pipes) {
      if (keys === undefined || !keys.has(p.routeKey)) this.#close(p, 'route removed');
    }
  }

  listen(): Promise<void> {
    const l = this.listener.source;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: l.address === '' ? undefined : l.address, port: l.port }, () => {
        this.server.removeListener('error', onError);
        this.server.on('error', (err) => this.#logger.error({ listener: this.key, err: err.message }, 'listener error'));
        const addr = this.server.address();
        this.boundPort = typeof addr === 'object' && addr !== null ? addr.port : l.port;
        resolve();
      });
    });
  }

  /** The socket left the table: its routes are gone, so its connections end now. */
  drain(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.#pending) s.destroy();
      for (const p of this.#pipes) this.#close(p, 'listener removed');
    });
  }

  #accept(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    if (this.listener.source.protocol !== 'TLS') {
      const gl = this.listener.source.gatewayListeners[0];
      const route = gl === undefined ? undefined : this.listener.streams?.select(gl.id, '*');
      this.#forward(socket, route, []);
      return;
    }
    this.#pending.add(socket);
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      this.#pending.delete(socket);
    };
    // A client that never completes its ClientHello is closed (slowloris guard).
    const timer = setTimeout(() => {
      done();
      socket.destroy();
    }, this.#limits.headersTimeoutMs);
    timer.unref();
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      const hello = parseClientHello(chunks.length === 1 ? chunk : Buffer.concat(chunks, size));
      if (hello.state === 'incomplete' && size <= MAX_CLIENT_HELLO + 1024) return;
      done();
      socket.pause();
      if (hello.state !== 'done') {
        this.#logger.debug({ listener: this.key, reason: hello.state === 'invalid' ? hello.reason : 'too large' }, 'not a TLS ClientHello; connection closed');
        socket.destroy();
        return;
      }
      this.#routeTls(socket, hello.serverName, chunks);
    };
    socket.on('data', onData);
    socket.once('close', () => {
      if (this.#pending.has(socket)) done();
    });
    socket.resume();
  }

  #routeTls(socket: Socket, serverName: string | undefined, head: Buffer[]): void {
    const cl = this.listener;
    // No SNI: only a listener without hostname (`*`) can take the connection.
    const listenerId = serverName === undefined ? cl.sniCatchAll : cl.selectGatewayListener(serverName);
    const gl = listenerId === undefined ? undefined : cl.source.gatewayListeners.find((g) => g.id === listenerId);
    const route = gl === undefined ? undefined : cl.streams?.select(gl.id, serverName);
    if (gl === undefined || route === undefined || gl.tlsMode !== 'Terminate') {
      this.#forward(socket, route, head);
      return;
    }
    const context = this.tls?.byListener.get(gl.id);
    if (context === undefined) {
      socket.destroy();
      return;
    }
    // Hand the bytes read so far back to the socket: TLSSocket consumes what is buffered first.
    socket.unshift(Buffer.concat(head));
    const tls = new TLSSocket(socket, { isServer: true, secureContext: context, allowHalfOpen: true } as ConstructorParameters<typeof TLSSocket>[1]);
    const timer = setTimeout(() => tls.destroy(), this.#limits.headersTimeoutMs);
    timer.unref();
    tls.on('error', (err) => {
      this.#logger.debug({ listener: this.key, err: err.message }, 'TLS handshake failed');
      tls.destroy();
      socket.destroy();
    });
    tls.once('secure', () => {
      clearTimeout(timer);
      this.#forward(tls, route, []);
    });
  }

  /** Dials the route's pick and pipes both ways; `head`: bytes already read from the client. */
  #forward(client: Socket, route: CompiledStreamRoute | undefined, head: readonly Buffer[]): void {
    const pick = pickEndpoint(route);
    if ('reject' in pick) {
      this.#logger.debug({ listener: this.key, route: route?.id, code: pick.reject }, 'stream rejected');
      client.destroy();
      return;
    }
    const pipe: Pipe = { routeKey: route!.key, client, upstream: undefined };
    this.#pipes.add(pipe);
    const upstream = connect({ host: pick.endpoint.address, port: pick.endpoint.port, allowHalfOpen: true, noDelay: true });
    pipe.upstream = upstream;
    const connectTimer = setTimeout(() => this.#close(pipe, 'connect timeout'), this.#limits.upstreamConnectTimeoutMs);
    connectTimer.unref();
    upstream.on('error', (err) => {
      this.#logger.debug({ listener: this.key, route: route!.id, err: err.message }, 'stream upstream error');
      this.#close(pipe, 'upstream error');
    });
    client.on('error', () => this.#close(pipe, 'client error'));
    client.once('close', () => this.#close(pipe, 'client closed'));
    upstream.once('close', () => this.#close(pipe, 'upstream closed'));
    upstream.once('connect', () => {
      clearTimeout(connectTimer);
      for (const b of head) upstream.write(b);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      if (this.#limits.idleTimeoutMs > 0) {
        client.setTimeout(this.#limits.idleTimeoutMs, () => this.#close(pipe, 'idle'));
      }
    });
  }

  #close(p: Pipe, why: string): void {
    if (!this.#pipes.delete(p)) return;
    // Closes the proxy decided on (not the peers' own) are worth a line when debugging.
    if (why === 'route removed' || why === 'listener removed' || why === 'connect timeout' || why === 'idle') {
      this.#logger.debug({ listener: this.key, route: p.routeKey, reason: why }, 'stream closed');
    }
    p.client.destroy();
    p.upstream?.destroy();
  }
}

function bindDatagram(type: 'udp4' | 'udp6', address: string, port: number): Promise<DgramSocket> {
  const socket = createSocket({ type, ipv6Only: false });
  return new Promise((resolve, reject) => {
    socket.once('error', (err) => {
      try {
        socket.close();
      } catch {
        // Never bound: nothing to close.
      }
      reject(err);
    });
    socket.bind({ address, port, exclusive: true }, () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

interface Session {
  readonly key: string;
  readonly routeKey: string;
  readonly upstream: DgramSocket;
  readonly client: RemoteInfo;
  last: number;
  /** Datagrams that arrived before the upstream socket connected. */
  queue: Buffer[] | undefined;
}

export class DatagramBinding implements SocketBinding {
  listener: CompiledListener;
  readonly key: string;
  boundPort = 0;
  readonly tls: TlsState | undefined = undefined;
  readonly #limits: ProxyLimits;
  readonly #logger: ProxyLogger;
  #socket: DgramSocket | undefined;
  readonly #sessions = new Map<string, Session>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(listener: CompiledListener, limits: ProxyLimits, logger: ProxyLogger) {
    this.listener = listener;
    this.key = listener.key;
    this.#limits = limits;
    this.#logger = logger;
  }

  updateTls(): void {
    const keys = this.listener.streams?.keys;
    for (const s of this.#sessions.values()) {
      if (keys === undefined || !keys.has(s.routeKey)) this.#end(s);
    }
  }

  async listen(): Promise<void> {
    const address = this.listener.source.address;
    const port = this.listener.source.port;
    let socket: DgramSocket;
    if (address !== '') {
      socket = await bindDatagram(isIPv6(address) ? 'udp6' : 'udp4', address, port);
    } else {
      // All interfaces: one dual-stack socket, as node:net servers bind; IPv4 only where the
      // host has no IPv6.
      try {
        socket = await bindDatagram('udp6', '::', port);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL' && code !== 'EINVAL') throw err;
        socket = await bindDatagram('udp4', '0.0.0.0', port);
      }
    }
    socket.on('error', (err) => this.#logger.error({ listener: this.key, err: err.message }, 'listener error'));
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    this.#socket = socket;
    this.boundPort = socket.address().port;
    const idle = this.#limits.udpSessionIdleTimeoutMs;
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const s of this.#sessions.values()) if (now - s.last >= idle) this.#end(s);
    }, Math.max(50, Math.min(5_000, Math.floor(idle / 4))));
    this.#sweeper.unref();
  }

  drain(): Promise<void> {
    clearInterval(this.#sweeper);
    for (const s of this.#sessions.values()) this.#end(s);
    const socket = this.#socket;
    this.#socket = undefined;
    return new Promise((resolve) => (socket === undefined ? resolve() : socket.close(() => resolve())));
  }

  #onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    let s = this.#sessions.get(key);
    if (s === undefined) {
      if (this.#sessions.size >= this.#limits.maxUdpSessions) return;
      const gl = this.listener.source.gatewayListeners[0];
      const route = gl === undefined ? undefined : this.listener.streams?.select(gl.id, '*');
      const pick = pickEndpoint(route);
      if ('reject' in pick) {
        this.#logger.debug({ listener: this.key, route: route?.id, code: pick.reject }, 'datagram dropped');
        return;
      }
      s = this.#open(key, route!.key, rinfo, pick.endpoint);
    }
    s.last = Date.now();
    if (s.queue !== undefined) {
      // Bounded: a client flooding before the connect completes loses the excess, as UDP may.
      if (s.queue.length < 64) s.queue.push(msg);
    } else {
      s.upstream.send(msg);
    }
  }

  #open(key: string, routeKey: string, client: RemoteInfo, endpoint: Endpoint): Session {
    const upstream = createSocket(isIPv6(endpoint.address) ? 'udp6' : 'udp4');
    const s: Session = { key, routeKey, upstream, client: { ...client }, last: Date.now(), queue: [] };
    this.#sessions.set(key, s);
    upstream.on('error', (err) => {
      this.#logger.debug({ listener: this.key, err: err.message }, 'udp upstream error');
      this.#end(s);
    });
    upstream.on('message', (reply) => {
      s.last = Date.now();
      this.#socket?.send(reply, s.client.port, s.client.address);
    });
    upstream.connect(endpoint.port, endpoint.address, () => {
      const queued = s.queue ?? [];
      s.queue = undefined;
      for (const m of queued) upstream.send(m);
    });
    return s;
  }

  #end(s: Session): void {
    if (this.#sessions.get(s.key) !== s) return;
    this.#sessions.delete(s.key);
    try {
      s.upstream.close();
    } catch {
      // Already closed after an error.
    }
  }
}
