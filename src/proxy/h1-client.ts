/**
 * The upstream HTTP/1.1 client: keep-alive connections per endpoint, the request head written
 * in one write, and responses parsed in place (status line, headers, Content-Length, chunked and
 * close-delimited bodies) straight into the handler's callbacks, with no per-request objects
 * besides the header list. It exists because the generic clients (undici, node:http Agent) cost
 * several times more CPU per request than the rest of the proxy put together; h2c backends still
 * go through undici (upstream.ts).
 *
 * Framing is strict, as DESIGN.md asks of the proxy: a response with both Transfer-Encoding and
 * Content-Length, conflicting Content-Lengths, a Transfer-Encoding other than `chunked`, obs-fold,
 * bare CR/LF, malformed chunk sizes or bytes after a complete response is a protocol error: the
 * request fails (502) and the connection is closed, never reused.
 *
 * Response headers reach the handler as a flat list `[name, value, ...]`, names spelled as the
 * server sent them (HTTP/1.1 clients see them unchanged, as nginx forwards them; HTTP/2 lower-cases
 * them), with the framing and hop-by-hop headers (RFC 9110 7.6.1, plus the Connection tokens)
 * already removed; a valid Content-Length is kept, because the body is forwarded byte for byte.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { HOP_BY_HOP } from './headers.ts';
import { CoarseTicker } from './coarse-ticker.ts';
import { CTL, isToken, isWs, parseChunkSize, parseLength } from './http-syntax.ts';
import type { Readable } from 'node:stream';

/** What a handler may do with the request in flight (undici's DispatchController has the same shape). */
export interface UpstreamControl {
  /** Stop the request and close its connection. The handler gets no further callback. */
  abort(reason: Error): void;
  /** Backpressure: stop reading the response until resume(). */
  pause(): void;
  resume(): void;
}

export interface UpstreamHandler {
  onRequestStart(ctl: UpstreamControl): void;
  /**
   * `headers`: flat `[name, value, ...]`, names as the server spelled them, end-to-end headers
   * only; valid only during the call. `trailers`: the response may end with trailers.
   */
  /**
   * `endStream`: the head is the whole response, no body and no trailers follow (HTTP/2 HEADERS
   * with END_STREAM: a gRPC Trailers-Only answer, which must reach the client the same way).
   */
  onResponseStart(ctl: UpstreamControl, status: number, headers: string[], trailers: boolean, endStream?: boolean): void;
  onResponseData(ctl: UpstreamControl, chunk: Buffer): void;
  /**
   * The response is complete. `trailers`: flat list like the headers (chunked responses only).
   * `last`: the final piece of the body when it arrived together with the end (deliver it and end
   * in one go); null otherwise.
   */
  onResponseEnd(ctl: UpstreamControl, trailers: string[] | null, last: Buffer | null): void;
  onResponseError(ctl: UpstreamControl, err: Error): void;
}

export interface UpstreamRequest {
  readonly method: string;
  /** Path and query (origin-form). */
  readonly target: string;
  /** Request body, or null for none. */
  readonly body: Readable | null;
  /** Byte length of `body` when known; -1 sends it chunked. Ignored when `body` is null. */
  readonly bodyLength: number;
  /** The request's header lines (`name: value\r\n` each), without framing headers. */
  headerLines(): string;
  /** The same headers as an object, for the undici (h2c) upstream. */
  headerObject(): Record<string, string | string[]>;
}

export interface UpstreamPool {
  dispatch(req: UpstreamRequest, handler: UpstreamHandler): void;
  /** Stop taking requests; let in-flight ones finish; resolves when every connection is closed. */
  close(): Promise<void>;
  destroy(): Promise<void>;
}

export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export interface H1PoolOptions {
  readonly connectTimeoutMs: number;
  /** Idle keep-alive connections are closed after this (shortened by a server's Keep-Alive hint). */
  readonly keepAliveTimeoutMs: number;
  /** A request whose connection sees no byte for this long fails (a dead peer). */
  readonly responseTimeoutMs: number;
  /** Cap of a response head (status line and headers) and of a trailer section. */
  readonly maxHeaderBytes: number;
  /** Connect with TLS (BackendTLSPolicy); absent: plain TCP. */
  readonly tls?: ConnectionOptions;
}

// Parser states.
const S_HEAD = 0;
const S_LENGTH = 1;
const S_CLOSE = 2;
const S_CHUNK_SIZE = 3;
const S_CHUNK_DATA = 4;
const S_CHUNK_CRLF = 5;
const S_TRAILERS = 6;

const CRLF = '\r\n';

/**
 * Plain upstream sockets read into this one buffer (net's `onread`) instead of going through
 * the stream machinery ('data' events, a tick and a buffer per read). Reads run one at a time
 * on this thread and each is copied out before the callback returns, so one buffer serves all.
 */
const sharedReadBuffer = Buffer.allocUnsafeSlow(64 * 1024);

/** Hop-by-hop and framing headers: never forwarded as they are (one list for the whole proxy). */
const HOP = HOP_BY_HOP;

const HOP_LENGTH = new Uint8Array(32);
for (const name of HOP) HOP_LENGTH[name.length] = 1;

/** Methods a stale keep-alive connection may replay (RFC 9110 9.2.2), when nothing was answered. */
const REPLAYABLE: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Methods whose empty body is announced with `content-length: 0` (as undici and browsers do). */
const EXPECTS_BODY: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/**
 * One coarse clock for every upstream connection's timeouts, instead of a socket timer that
 * node would re-arm on every read and write: a connection notes the tick of its last activity,
 * and each tick checks the live connections. A timeout fires up to one tick late; the idle
 * timeout fires within the last tick before its limit, so an idle keep-alive connection is
 * always closed before the server's own idle limit that the setting is chosen to undercut.
 */
const TICK_MS = 250;
let clock = 0;
const ticker = new CoarseTicker<H1Conn>(TICK_MS, (conns) => {
  clock++;
  for (const c of conns) c.onTick();
});

const kConn = Symbol('fluxgate.h1conn');
type Body = Readable & { [kConn]?: H1Conn | undefined };

function onBodyData(this: Body, chunk: Buffer): void {
  this[kConn]?.writeBody(chunk);
}
function onBodyEnd(this: Body): void {
  this[kConn]?.endBody();
}
function onBodyError(this: Body, err: Error): void {
  this[kConn]?.bodyFailed(err);
}
function onBodyClose(this: Body): void {
  // A body stream that closes before 'end' was aborted (client gone mid-upload).
  const c = this[kConn];
  if (c !== undefined && !this.readableEnded) c.bodyFailed(new UpstreamError('UPSTREAM_BODY_ABORTED', 'the request body was aborted'));
}

class H1Conn implements UpstreamControl {
  readonly pool: H1Pool;
  readonly sock: Socket;
  handler: UpstreamHandler | null = null;
  req: UpstreamRequest | null = null;
  dead = false;
  connected = false;
  /** This connection served a request before the current one (so it may have gone stale). */
  reused = false;
  /** Some byte of the current response arrived. */
  received = false;
  /** Clock tick of the last sign of life (connect, request written, bytes received). */
  stamp = clock;
  idleMs: number;
  /** Reading paused by the handler (backpressure). */
  paused = false;

  // Request body state.
  bodyChunked = false;
  bodyLeft = 0;
  bodyDone = true;

  // Response state.
  state = S_HEAD;
  pending: Buffer | null = null;
  status = 0;
  keepAlive = true;
  remaining = 0;
  chunkedLineBytes = 0;
  trailers: string[] | null = null;

  constructor(pool: H1Pool) {
    this.pool = pool;
    this.idleMs = pool.opts.keepAliveTimeoutMs;
    const tls = pool.opts.tls;
    // Writes before the handshake completes are queued by the TLS socket, as net queues them
    // before 'connect'; a failed handshake (certificate not trusted, wrong name) is an 'error'.
    const sock = tls === undefined
      ? connect({
        host: pool.host, port: pool.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000,
        onread: { buffer: sharedReadBuffer, callback: (n: number, buf: Uint8Array) => this.onRead(n, buf) },
      })
      : tlsConnect({ ...tls, host: pool.host, port: pool.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 } as ConnectionOptions);
    this.sock = sock;
    ticker.watch(this);
    sock.on(tls === undefined ? 'connect' : 'secureConnect', () => {
      this.connected = true;
      this.stamp = clock;
    });
    // TLS sockets have no `onread`: their bytes come as 'data' events, each chunk their own.
    if (tls !== undefined) sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('end', () => this.onEnd());
    sock.on('error', (err: Error) => this.onClose(err));
    sock.on('close', () => this.onClose(undefined));
    sock.on('drain', () => {
      const body = this.req?.body;
      if (body != null && !this.bodyDone) body.resume();
    });
  }

  // ---- request ----------------------------------------------------------------------------

  start(req: UpstreamRequest, handler: UpstreamHandler): void {
    this.handler = handler;
    this.req = req;
    this.received = false;
    this.stamp = clock;
    this.state = S_HEAD;
    this.keepAlive = true;
    this.trailers = null;
    handler.onRequestStart(this);
    if (this.handler !== handler) return;
    const body = req.body;
    let framing = '';
    if (body === null) {
      this.bodyDone = true;
      if (EXPECTS_BODY.has(req.method)) framing = 'content-length: 0\r\n';
    } else {
      this.bodyDone = false;
      this.bodyChunked = req.bodyLength < 0;
      this.bodyLeft = req.bodyLength;
      framing = this.bodyChunked ? 'transfer-encoding: chunked\r\n' : `content-length: ${req.bodyLength}\r\n`;
    }
    this.sock.write(`${req.method} ${req.target} HTTP/1.1\r\n${req.headerLines()}${framing}\r\n`, 'latin1');
    if (body !== null) {
      const b = body as Body;
      b[kConn] = this;
      b.on('data', onBodyData);
      b.on('end', onBodyEnd);
      b.on('error', onBodyError);
      b.on('close', onBodyClose);
      if (this.bodyLeft === 0 && !this.bodyChunked) this.endBody();
    }
  }

  writeBody(chunk: Buffer): void {
    if (this.bodyDone || this.dead) return;
    const sock = this.sock;
    this.stamp = clock;
    let ok: boolean;
    if (this.bodyChunked) {
      if (chunk.length === 0) return;
      sock.cork();
      sock.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      sock.write(chunk);
      ok = sock.write(CRLF, 'latin1');
      sock.uncork();
    } else {
      if (chunk.length > this.bodyLeft) {
        this.bodyFailed(new UpstreamError('UPSTREAM_BODY_LENGTH', 'the request body is longer than its Content-Length'));
        return;
      }
      this.bodyLeft -= chunk.length;
      ok = sock.write(chunk);
    }
    if (!ok) this.req?.body?.pause();
  }

  endBody(): void {
    if (this.bodyDone || this.dead) return;
    if (this.bodyChunked) this.sock.write('0\r\n\r\n', 'latin1');
    else if (this.bodyLeft !== 0) {
      this.bodyFailed(new UpstreamError('UPSTREAM_BODY_LENGTH', 'the request body is shorter than its Content-Length'));
      return;
    }
    this.detachBody();
  }

  bodyFailed(err: Error): void {
    if (this.bodyDone) return;
    this.detachBody();
    this.fail(err);
  }

  /** Stop reading the request body (sent, failed, or no longer wanted). */
  detachBody(): void {
    this.bodyDone = true;
    const body = this.req?.body as Body | null | undefined;
    if (body == null) return;
    body[kConn] = undefined;
    body.removeListener('data', onBodyData);
    body.removeListener('end', onBodyEnd);
    body.removeListener('error', onBodyError);
    body.removeListener('close', onBodyClose);
  }

  // ---- control ----------------------------------------------------------------------------

  abort(_reason: Error): void {
    if (this.handler === null) return;
    if (!this.bodyDone) this.detachBody();
    this.handler = null;
    this.req = null;
    this.destroy();
  }

  pause(): void {
    this.paused = true;
    this.sock.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.sock.resume();
  }

  // ---- socket events ----------------------------------------------------------------------

  /**
   * A read into the shared buffer: copied out first (a pooled slice for small reads), because
   * the parser and the handler may keep views of it (a partial head, a body chunk the client
   * socket has not written yet) and the next read of any connection overwrites it. Returns
   * false (net then stops reading) when the handler paused the response meanwhile.
   */
  onRead(n: number, buf: Uint8Array): boolean {
    this.onData(Buffer.from(buf.subarray(0, n)));
    return !this.paused;
  }

  onData(d: Buffer): void {
    if (this.handler === null) {
      // Bytes nobody asked for: the connection is out of sync.
      this.destroy();
      return;
    }
    this.received = true;
    this.stamp = clock;
    this.parse(d);
  }

  /** Called on every clock tick: connect, idle and response timeouts. */
  onTick(): void {
    const silentMs = (clock - this.stamp) * TICK_MS;
    if (this.handler === null) {
      if (silentMs >= this.idleMs) this.destroy();
      return;
    }
    if (!this.connected) {
      if (silentMs >= this.pool.opts.connectTimeoutMs) {
        this.fail(new UpstreamError('UPSTREAM_CONNECT_TIMEOUT', 'connecting to the upstream timed out'));
      }
      return;
    }
    if (silentMs >= this.pool.opts.responseTimeoutMs) this.fail(new UpstreamError('UPSTREAM_RESPONSE_TIMEOUT', 'the upstream sent nothing in time'));
  }

  onEnd(): void {
    if (this.handler !== null && this.state === S_CLOSE) {
      // A close-delimited body ends with the connection.
      this.keepAlive = false;
      this.complete(null);
      return;
    }
    this.onClose(undefined);
  }

  onClose(err: Error | undefined): void {
    if (this.handler !== null) {
      if (this.state === S_CLOSE && err === undefined) {
        this.keepAlive = false;
        this.complete(null);
        return;
      }
      const e = err ?? new UpstreamError('UPSTREAM_CLOSED', 'the upstream closed the connection');
      if (this.canReplay()) {
        const req = this.req!;
        const h = this.handler;
        this.handler = null;
        this.req = null;
        this.destroy();
        this.pool.dispatchFresh(req, h);
        return;
      }
      this.fail(e);
      return;
    }
    this.destroy();
  }

  /** A reused connection that died before answering anything: the server closed it while idle. */
  canReplay(): boolean {
    const req = this.req;
    return this.reused && !this.received && req !== null && req.body === null && REPLAYABLE.has(req.method) && !this.pool.closed;
  }

  /** Fail the current request and drop the connection. */
  fail(err: Error): void {
    const h = this.handler;
    if (!this.bodyDone) this.detachBody();
    this.handler = null;
    this.req = null;
    this.destroy();
    if (h !== null) h.onResponseError(this, err);
  }

  destroy(): void {
    if (!this.dead) {
      this.dead = true;
      ticker.unwatch(this);
      this.sock.destroy();
      this.pool.forget(this);
    }
  }

  // ---- response parsing -------------------------------------------------------------------

  protocolError(message: string): void {
    this.fail(new UpstreamError('UPSTREAM_PROTOCOL', message));
  }

  parse(d: Buffer): void {
    const h = this.handler!;
    let off = 0;
    while (this.handler === h) {
      switch (this.state) {
        case S_HEAD: {
          let data = d;
          let from = off;
          let search = off;
          const p = this.pending;
          if (p !== null) {
            search = Math.max(0, p.length - 3);
            data = Buffer.concat([p, off === 0 ? d : d.subarray(off)]);
            from = 0;
            this.pending = null;
          }
          const end = data.indexOf('\r\n\r\n', search, 'latin1');
          if (end === -1) {
            if (data.length - from > this.pool.opts.maxHeaderBytes) return this.protocolError('response head too large');
            this.pending = from === 0 ? data : data.subarray(from);
            return;
          }
          if (end - from > this.pool.opts.maxHeaderBytes) return this.protocolError('response head too large');
          const head = data.toString('latin1', from, end);
          d = data;
          off = end + 4;
          if (!this.onHead(head, h)) return;
          if (this.handler !== h) return;
          if (this.state === S_HEAD) {
            // Informational (1xx) answer: skip it, the final one follows.
            if (off >= d.length) return;
            continue;
          }
          if (this.state === S_LENGTH && this.remaining === 0) return this.complete(null, d, off);
          break;
        }
        case S_LENGTH: {
          const avail = d.length - off;
          if (avail === 0) return;
          if (avail >= this.remaining) {
            const take = this.remaining;
            const chunk = off === 0 && take === d.length ? d : d.subarray(off, off + take);
            this.remaining = 0;
            return this.complete(chunk, d, off + take);
          }
          this.remaining -= avail;
          h.onResponseData(this, off === 0 ? d : d.subarray(off));
          return;
        }
        case S_CLOSE: {
          if (off < d.length) h.onResponseData(this, off === 0 ? d : d.subarray(off));
          return;
        }
        case S_CHUNK_SIZE:
        case S_TRAILERS: {
          // Line-oriented: gather up to CRLF (a line may span reads).
          let data = d;
          let from = off;
          const p = this.pending;
          if (p !== null) {
            data = Buffer.concat([p, off === 0 ? d : d.subarray(off)]);
            from = 0;
            this.pending = null;
          }
          const eol = data.indexOf('\r\n', from, 'latin1');
          if (eol === -1) {
            if (data.length - from > this.pool.opts.maxHeaderBytes) return this.protocolError('chunk line too long');
            this.pending = from === 0 ? data : data.subarray(from);
            return;
          }
          d = data;
          off = eol + 2;
          if (this.state === S_CHUNK_SIZE) {
            const size = parseChunkSize(data, from, eol);
            if (size < 0) return this.protocolError('invalid chunk size');
            if (size === 0) {
              this.state = S_TRAILERS;
              this.chunkedLineBytes = 0;
            } else {
              this.remaining = size;
              this.state = S_CHUNK_DATA;
            }
          } else if (eol === from) {
            return this.complete(null, d, off);
          } else {
            this.chunkedLineBytes += eol - from + 2;
            if (this.chunkedLineBytes > this.pool.opts.maxHeaderBytes) return this.protocolError('trailers too large');
            if (!this.onTrailerLine(data.toString('latin1', from, eol))) return;
          }
          if (off >= d.length) return;
          break;
        }
        case S_CHUNK_DATA: {
          const avail = d.length - off;
          if (avail === 0) return;
          const take = avail < this.remaining ? avail : this.remaining;
          h.onResponseData(this, off === 0 && take === d.length ? d : d.subarray(off, off + take));
          off += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = S_CHUNK_CRLF;
            this.chunkedLineBytes = 0;
          }
          if (off >= d.length) return;
          break;
        }
        case S_CHUNK_CRLF: {
          // The CRLF after chunk data, possibly split across reads.
          while (off < d.length && this.chunkedLineBytes < 2) {
            const want = this.chunkedLineBytes === 0 ? 13 : 10;
            if (d[off] !== want) return this.protocolError('chunk data longer than its size');
            off++;
            this.chunkedLineBytes++;
          }
          if (this.chunkedLineBytes < 2) return;
          this.state = S_CHUNK_SIZE;
          if (off >= d.length) return;
          break;
        }
      }
    }
  }

  /** Parse a response head; false when it failed the request (protocol error). */
  onHead(head: string, h: UpstreamHandler): boolean {
    // Status line: HTTP/1.x SP 3DIGIT [SP reason]
    let eol = head.indexOf(CRLF);
    if (eol === -1) eol = head.length;
    if (
      eol < 12 ||
      !head.startsWith('HTTP/1.') ||
      (head.charCodeAt(7) !== 49 && head.charCodeAt(7) !== 48) ||
      head.charCodeAt(8) !== 32 ||
      (eol > 12 && head.charCodeAt(12) !== 32)
    ) {
      this.protocolError('invalid status line');
      return false;
    }
    const d0 = head.charCodeAt(9) - 48;
    const d1 = head.charCodeAt(10) - 48;
    const d2 = head.charCodeAt(11) - 48;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) {
      this.protocolError('invalid status code');
      return false;
    }
    const status = d0 * 100 + d1 * 10 + d2;
    const http10 = head.charCodeAt(7) === 48;
    const out: string[] = [];
    let length = -1;
    let te: string | undefined;
    let extra: string[] | undefined;
    let keepAlive = true;
    let pos = eol + 2;
    const end = head.length;
    while (pos < end) {
      let e = head.indexOf(CRLF, pos);
      if (e === -1) e = end;
      const c0 = head.charCodeAt(pos);
      if (isWs(c0)) {
        this.protocolError('obs-fold in response headers');
        return false;
      }
      const colon = head.indexOf(':', pos);
      const lf = head.indexOf('\n', pos);
      const cr = head.indexOf('\r', pos);
      if (colon === -1 || colon >= e || (lf !== -1 && lf < e) || (cr !== -1 && cr < e)) {
        this.protocolError('invalid response header line');
        return false;
      }
      if (!isToken(head, pos, colon)) {
        this.protocolError('invalid response header name');
        return false;
      }
      const name = head.slice(pos, colon);
      let vs = colon + 1;
      let ve = e;
      while (vs < ve && isWs(head.charCodeAt(vs))) vs++;
      while (ve > vs && isWs(head.charCodeAt(ve - 1))) ve--;
      const value = head.slice(vs, ve);
      pos = e + 2;
      if (CTL.test(value)) {
        this.protocolError('control character in a response header value');
        return false;
      }
      // Only names of these lengths can be hop-by-hop: skips lower-casing and the Set lookup for
      // most headers.
      if (!HOP_LENGTH[name.length]) {
        out.push(name, value);
        continue;
      }
      const lower = name.toLowerCase();
      if (!HOP.has(lower)) {
        out.push(name, value);
        continue;
      }
      switch (lower) {
        case 'content-length': {
          const v = parseLength(value);
          if (v < 0 || (length !== -1 && v !== length)) {
            this.protocolError('invalid Content-Length');
            return false;
          }
          if (length === -1) out.push(name, value);
          length = v;
          break;
        }
        case 'transfer-encoding':
          te = te === undefined ? value : `${te},${value}`;
          break;
        case 'connection':
          if (value === 'keep-alive' || value === 'Keep-Alive') break;
          if (value === 'close') {
            keepAlive = false;
            break;
          }
          for (const raw of value.split(',')) {
            const t = raw.trim().toLowerCase();
            if (t === 'close') keepAlive = false;
            else if (t !== '' && t !== 'keep-alive') (extra ??= []).push(t);
          }
          break;
        case 'keep-alive':
          if (!this.keepAliveHint(value)) keepAlive = false;
          break;
        default:
          break;
      }
    }
    if (extra !== undefined) {
      for (let i = out.length - 2; i >= 0; i -= 2) if (extra.includes(out[i]!.toLowerCase())) out.splice(i, 2);
    }
    // HTTP/1.0 keeps the connection only when asked to; we never ask, so never reuse it.
    if (http10) keepAlive = false;
    if (status < 200) {
      if (status === 101) {
        this.protocolError('unexpected 101 Switching Protocols');
        return false;
      }
      return true;
    }
    this.status = status;
    this.keepAlive = keepAlive;
    const method = this.req!.method;
    if (method === 'HEAD' || status === 204 || status === 304) {
      this.state = S_LENGTH;
      this.remaining = 0;
    } else if (te !== undefined) {
      if (length !== -1) {
        this.protocolError('response has both Transfer-Encoding and Content-Length');
        return false;
      }
      if (te.trim().toLowerCase() !== 'chunked') {
        this.protocolError('unsupported response Transfer-Encoding');
        return false;
      }
      this.state = S_CHUNK_SIZE;
    } else if (length !== -1) {
      this.state = S_LENGTH;
      this.remaining = length;
    } else {
      this.state = S_CLOSE;
      this.keepAlive = false;
    }
    h.onResponseStart(this, status, out, this.state === S_CHUNK_SIZE);
    return true;
  }

  /** The server's `Keep-Alive: timeout=N` hint; false when the connection must not be reused. */
  keepAliveHint(value: string): boolean {
    const i = value.toLowerCase().indexOf('timeout=');
    if (i === -1) return true;
    const secs = parseInt(value.slice(i + 8), 10);
    if (!Number.isFinite(secs)) return true;
    // Leave a second of margin, so we never send on a connection the server is closing.
    const ms = secs * 1000 - 1000;
    if (ms <= 0) return false;
    if (ms < this.idleMs) this.idleMs = ms;
    return true;
  }

  onTrailerLine(line: string): boolean {
    const colon = line.indexOf(':');
    if (isWs(line.charCodeAt(0)) || colon <= 0 || line.includes('\n') || line.includes('\r')) {
      this.protocolError('invalid trailer line');
      return false;
    }
    if (!isToken(line, 0, colon)) {
      this.protocolError('invalid trailer name');
      return false;
    }
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (CTL.test(value)) {
      this.protocolError('control character in a trailer value');
      return false;
    }
    if (!HOP.has(name.toLowerCase())) (this.trailers ??= []).push(name, value);
    return true;
  }

  /**
   * The response is complete (`d[off..]` is what followed it in the last read). The connection
   * goes back to the pool before the handler hears of it, so a retry can reuse it at once.
   */
  complete(last: Buffer | null, d?: Buffer, off = 0): void {
    const h = this.handler!;
    const trailers = this.trailers;
    this.handler = null;
    this.trailers = null;
    this.pending = null;
    if (!this.bodyDone) {
      // The server answered before reading the whole request body: the connection is out of sync.
      this.detachBody();
      this.keepAlive = false;
    }
    this.req = null;
    // Bytes after a complete response: nothing was asked for them (no pipelining).
    if (d !== undefined && off < d.length) this.keepAlive = false;
    if (this.paused) this.resume();
    if (this.keepAlive && !this.pool.closed) {
      this.reused = true;
      this.pool.release(this);
    } else {
      this.destroy();
    }
    h.onResponseEnd(this, trailers, last);
  }
}

/** Keep-alive HTTP/1.1 connections to one endpoint (most recently used first). */
export class H1Pool implements UpstreamPool {
  readonly host: string;
  readonly port: number;
  readonly opts: H1PoolOptions;
  readonly #idle: H1Conn[] = [];
  readonly #all = new Set<H1Conn>();
  closed = false;
  #drained: (() => void) | undefined;

  constructor(host: string, port: number, opts: H1PoolOptions) {
    this.host = host;
    this.port = port;
    this.opts = opts;
  }

  get connections(): number {
    return this.#all.size;
  }

  dispatch(req: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.closed) throw new UpstreamError('UPSTREAM_POOL_CLOSED', 'the upstream pool is closed');
    const idle = this.#idle;
    let c = idle.pop();
    while (c !== undefined && c.dead) c = idle.pop();
    (c ?? this.#open()).start(req, handler);
  }

  /** On a new connection (a replay after a stale keep-alive connection died). */
  dispatchFresh(req: UpstreamRequest, handler: UpstreamHandler): void {
    this.#open().start(req, handler);
  }

  #open(): H1Conn {
    const c = new H1Conn(this);
    this.#all.add(c);
    return c;
  }

  release(c: H1Conn): void {
    this.#idle.push(c);
  }

  forget(c: H1Conn): void {
    this.#all.delete(c);
    const i = this.#idle.lastIndexOf(c);
    if (i !== -1) this.#idle.splice(i, 1);
    if (this.closed && this.#all.size === 0) this.#drained?.();
  }

  close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.#idle]) c.destroy();
    this.#idle.length = 0;
    if (this.#all.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  destroy(): Promise<void> {
    this.closed = true;
    for (const c of [...this.#all]) c.fail(new UpstreamError('UPSTREAM_POOL_CLOSED', 'the upstream pool was destroyed'));
    this.#idle.length = 0;
    return Promise.resolve();
  }
}
