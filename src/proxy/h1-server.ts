/**
 * FluxGate's own HTTP/1.1 server side, in place of node:http's (whose per-request bookkeeping
 * was most of the proxy's CPU per request: bench/ANALYSIS.md). One H1Connection per client
 * socket reads request heads, parses them strictly (request-head.ts), streams request bodies
 * (Content-Length or chunked) through a Readable with backpressure, and hands the exchange an
 * H1Request and an H1Response shaped like the HTTP/2 pair (h2-stream.ts). The response head is
 * built here, validated field by field, and goes out in the same write as the body when the body
 * is small.
 *
 * One request at a time per connection: the bytes of a pipelined next request wait (reading
 * pauses when they pile up) until the current response is complete. A response that completes
 * before its request body was fully received closes the connection, so unread body bytes can
 * never be taken for a request. Timeouts follow node:http's: the head must arrive within
 * `headersTimeoutMs`, the whole request within `requestTimeoutMs`, and an idle keep-alive
 * connection is closed after `keepAliveTimeoutMs`.
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { CoarseTicker } from './coarse-ticker.ts';
import { CTL, isToken, parseChunkSize } from './http-syntax.ts';
import { isHeadError, parseRequestHead, type RequestHead } from './request-head.ts';

export interface H1ServerLimits {
  readonly maxHeaderSize: number;
  readonly maxHeaderCount: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

export interface H1Handlers {
  request(req: H1Request, res: H1Response): void;
  /** Whether an upgrade request is one to hand over (WebSocket); others are served as usual. */
  isUpgrade(head: RequestHead): boolean;
  /** The socket is the handler's from then on; `head` holds the bytes that followed the request head. */
  upgrade(req: H1Request, socket: Socket, head: Buffer): void;
  /** The raw answer to a refused request or a timeout, sent before closing. */
  refusal(status: number, code: string, message: string): string;
}

/** The body of a request, fed by its connection. */
export class H1Body extends Readable {
  readonly conn: H1Connection;
  constructor(conn: H1Connection) {
    super();
    this.conn = conn;
    // A client that leaves mid-upload errors the body; with no reader attached yet (a plugin
    // still deciding) that must not become an uncaught exception.
    this.on('error', ignoreError);
  }

  override _read(): void {
    this.conn.bodyWanted();
  }
}

function ignoreError(): void {}

/** The request as RequestState reads it (the subset of IncomingMessage it uses). */
export class H1Request {
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor: number;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly socket: Socket;
  /** The body stream, or null for a request without a body. */
  readonly body: H1Body | null;
  /** -2: no body; -1: chunked; otherwise the Content-Length. */
  readonly bodyLength: number;

  constructor(socket: Socket, head: RequestHead, body: H1Body | null) {
    this.socket = socket;
    this.method = head.method;
    this.url = head.url;
    this.httpVersionMinor = head.httpVersionMinor;
    this.headers = head.headers;
    this.rawHeaders = head.rawHeaders;
    this.body = body;
    this.bodyLength = body === null ? -2 : head.bodyLength;
  }
}

/** Bodies up to this size go out in the same write as the head. */
const SMALL_BODY = 2048;

/** `Date` field value, rebuilt at most once a second. */
let dateSecond = 0;
let dateValue = '';
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

export class InvalidHeaderError extends Error {
  override readonly name = 'InvalidHeaderError';
  readonly code = 'ERR_INVALID_HTTP_TOKEN';
}

const NO_HEADERS: readonly string[] = [];

/** An outgoing header object as a flat [name, value, ...] list; arrays give one field each. */
function flatHeaders(headers: OutgoingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else out.push(name, String(v));
  }
  return out;
}

/** The response as the exchange and errors.ts write it. */
export class H1Response extends EventEmitter {
  readonly conn: H1Connection;
  /** HEAD request: the head goes out, a body never does. */
  readonly isHead: boolean;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  /** Head built by writeHead, sent with the first body bytes. */
  pendingHead: string | null = null;
  chunked = false;
  noBody = false;
  trailers: OutgoingHttpHeaders | null = null;

  constructor(conn: H1Connection, isHead: boolean) {
    super();
    this.conn = conn;
    this.isHead = isHead;
  }

  /**
   * `own` are field lines this process produced (a plugin's response-field block, each line
   * ending in CRLF): valid by the plugin contract and never framing fields, so they go into the
   * head as they are, without the per-field checks an upstream's fields get.
   */
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders | string[], own?: string): this {
    if (this.headersSent) return this;
    const conn = this.conn;
    let h = `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Unknown'}\r\n`;
    let length = false;
    let date = false;
    let close = !conn.keepAlive;
    // One loop over a flat list (the upstream's own, plus plugin headers): no closure per head.
    const list = Array.isArray(headers) ? headers : headers === undefined ? NO_HEADERS : flatHeaders(headers);
    for (let i = 0; i < list.length; i += 2) {
      const name = list[i]!, value = list[i + 1]!;
      if (!isToken(name, 0, name.length) || CTL.test(value)) throw new InvalidHeaderError(`invalid response header ${name}`);
      const n = name.length;
      // Framing and connection fields are this server's to write.
      if (n === 14 || n === 4 || n === 10 || n === 17) {
        const lower = name.toLowerCase();
        if (lower === 'content-length') length = true;
        else if (lower === 'date') date = true;
        else if (lower === 'connection') {
          if (value.toLowerCase() === 'close') close = true;
          continue;
        } else if (lower === 'keep-alive' || lower === 'transfer-encoding') continue;
      }
      h += `${name}: ${value}\r\n`;
    }
    if (own !== undefined) h += own;
    if (!date) h += `Date: ${httpDate()}\r\n`;
    this.noBody = this.isHead || statusCode === 204 || statusCode === 304 || statusCode < 200;
    if (!length && !this.noBody) {
      if (conn.minor === 1) {
        this.chunked = true;
        h += 'Transfer-Encoding: chunked\r\n';
      } else {
        // HTTP/1.0 without a length: the body ends with the connection.
        close = true;
      }
    }
    if (close) conn.keepAlive = false;
    h += close ? 'Connection: close\r\n\r\n' : 'Connection: keep-alive\r\n\r\n';
    this.pendingHead = h;
    this.headersSent = true;
    return this;
  }

  write(chunk: Buffer): boolean {
    if (this.writableEnded) return true;
    if (!this.headersSent) this.writeHead(200);
    return this.send(chunk);
  }

  /** The pending head (if any) and `chunk`, framed. */
  send(chunk: Buffer): boolean {
    const sock = this.conn.socket;
    if (sock.destroyed) return true;
    const head = this.pendingHead;
    this.pendingHead = null;
    if (this.noBody || chunk.length === 0) return head === null ? true : sock.write(head, 'latin1');
    if (this.chunked) {
      sock.cork();
      sock.write(`${head ?? ''}${chunk.length.toString(16)}\r\n`, 'latin1');
      sock.write(chunk);
      const ok = sock.write('\r\n', 'latin1');
      sock.uncork();
      return ok;
    }
    if (head !== null) sock.write(head, 'latin1');
    return sock.write(chunk);
  }

  end(chunk?: string | Buffer): this {
    if (this.writableEnded) return this;
    if (!this.headersSent) this.writeHead(200);
    this.writableEnded = true;
    const sock = this.conn.socket;
    if (!sock.destroyed) {
      const head = this.pendingHead;
      const body = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (head !== null && !this.chunked && !this.noBody && body !== undefined && body.length > 0 && body.length <= SMALL_BODY) {
        // Head and a small body in one string: one write, no iovec array.
        this.pendingHead = null;
        sock.write(head + body.toString('latin1'), 'latin1');
      } else {
        sock.cork();
        if (body !== undefined && body.length > 0) this.send(body);
        else if (this.pendingHead !== null) {
          sock.write(this.pendingHead, 'latin1');
          this.pendingHead = null;
        }
        if (this.chunked && !this.noBody) sock.write(`0\r\n${trailerLines(this.trailers)}\r\n`, 'latin1');
        sock.uncork();
      }
    }
    this.writableFinished = true;
    this.conn.responseDone(this);
    return this;
  }

  addTrailers(headers: OutgoingHttpHeaders): void {
    this.trailers = headers;
  }

  destroy(): this {
    this.conn.socket.destroy();
    return this;
  }

  override once(event: string, listener: (...args: never[]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  override on(event: string, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
}

/** Trailer fields of a chunked response; invalid ones are dropped (the response is complete). */
function trailerLines(t: OutgoingHttpHeaders | null): string {
  if (t === null) return '';
  let out = '';
  for (const name in t) {
    const v = t[name];
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [String(v)]) if (isToken(name, 0, name.length) && !CTL.test(x)) out += `${name}: ${x}\r\n`;
  }
  return out;
}

const DEFAULT_MESSAGE: Readonly<Record<string, string>> = {
  BAD_REQUEST: 'bad request',
  HEADERS_TOO_LARGE: 'request headers too large',
  CLIENT_TIMEOUT: 'the request was not received in time',
};

// Connection states.
const S_HEAD = 0;
const S_LENGTH = 1;
const S_CHUNK_SIZE = 2;
const S_CHUNK_DATA = 3;
const S_CHUNK_CRLF = 4;
const S_TRAILERS = 5;
/** The request was read completely; its response is not done yet. */
const S_WAIT = 6;
const S_CLOSED = 7;

/**
 * One coarse clock for every connection's timeouts (as the upstream client has): a connection
 * notes when its current phase started; each tick checks the live ones.
 */
const TICK_MS = 100;
const ticker = new CoarseTicker<H1Connection>(TICK_MS, (conns) => {
  const now = Date.now();
  for (const c of conns) c.onTick(now);
});

/** One client connection. */
export class H1Connection {
  readonly socket: Socket;
  readonly limits: H1ServerLimits;
  readonly handlers: H1Handlers;
  state = S_HEAD;
  buf: Buffer | null = null;
  current: H1Response | null = null;
  body: H1Body | null = null;
  /** Left of the current Content-Length body or chunk. */
  remaining = 0;
  chunkLineBytes = 0;
  keepAlive = true;
  minor = 1;
  expectContinue = false;
  /** Reading paused: the body's reader is behind, or pipelined bytes pile up. */
  paused = false;
  /** When the current request's head started (its first byte), or the connection went idle. */
  since = Date.now();
  /** A request is under way (head started); otherwise the connection is idle between requests. */
  active = false;

  constructor(socket: Socket, limits: H1ServerLimits, handlers: H1Handlers) {
    this.socket = socket;
    this.limits = limits;
    this.handlers = handlers;
    ticker.watch(this);
    socket.on('data', this.onDataBound);
    socket.on('close', this.onCloseBound);
    socket.on('drain', this.onDrainBound);
    // A reset or a TLS error: the socket closes ('close' follows); never an uncaught exception.
    socket.on('error', this.onErrorBound);
  }

  readonly onDataBound = (d: Buffer): void => this.onData(d);
  readonly onErrorBound = (): void => {
    this.socket.destroy();
  };
  readonly onCloseBound = (): void => this.onClose();
  readonly onDrainBound = (): void => {
    this.current?.emit('drain');
  };

  get idle(): boolean {
    return this.current === null && this.state === S_HEAD && (this.buf === null || this.buf.length === 0);
  }

  onData(d: Buffer): void {
    if (this.state === S_CLOSED) return;
    if (!this.active && this.state === S_HEAD) {
      this.active = true;
      this.since = Date.now();
    }
    this.buf = this.buf === null ? d : Buffer.concat([this.buf, d]);
    this.process();
  }

  /** Consume buffered bytes as far as the state allows. */
  process(): void {
    for (;;) {
      const buf = this.buf;
      switch (this.state) {
        case S_HEAD: {
          if (this.current !== null || buf === null) return;
          const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
          if (end === -1) {
            if (buf.length > this.limits.maxHeaderSize) return this.refuse(431, 'HEADERS_TOO_LARGE');
            return;
          }
          if (end > this.limits.maxHeaderSize) return this.refuse(431, 'HEADERS_TOO_LARGE');
          this.buf = end + 4 < buf.length ? buf.subarray(end + 4) : null;
          if (!this.startRequest(buf.toString('latin1', 0, end))) return;
          continue;
        }
        case S_WAIT:
          // Pipelined bytes wait for the response; reading pauses when they pile up.
          if (buf !== null && buf.length > this.limits.maxHeaderSize) this.pause();
          return;
        case S_CLOSED:
          return;
        default:
          if (buf === null) return;
          if (!this.feedBody(buf)) return;
      }
    }
  }

  /** A complete head: dispatch it. False when the connection was refused or handed over. */
  startRequest(text: string): boolean {
    const r = parseRequestHead(text, this.limits.maxHeaderCount);
    if (isHeadError(r)) {
      this.refuse(r.status, r.code, r.message);
      return false;
    }
    this.keepAlive = r.keepAlive;
    this.minor = r.httpVersionMinor;
    if (r.upgrade && this.handlers.isUpgrade(r)) {
      // The socket leaves this server with whatever followed the head.
      const rest = this.buf ?? Buffer.alloc(0);
      this.detach();
      this.handlers.upgrade(new H1Request(this.socket, r, null), this.socket, rest);
      return false;
    }
    let body: H1Body | null = null;
    if (r.bodyLength === -2) {
      this.state = S_WAIT;
    } else {
      body = new H1Body(this);
      this.body = body;
      this.expectContinue = r.expectContinue;
      if (r.bodyLength === -1) {
        this.state = S_CHUNK_SIZE;
      } else {
        this.state = S_LENGTH;
        this.remaining = r.bodyLength;
      }
    }
    const res = new H1Response(this, r.method === 'HEAD');
    this.current = res;
    this.handlers.request(new H1Request(this.socket, r, body), res);
    return this.state !== S_CLOSED;
  }

  /** The body's reader wants more: resume reading, and answer 100-continue once. */
  bodyWanted(): void {
    if (this.expectContinue) {
      this.expectContinue = false;
      if (this.current !== null && !this.current.headersSent) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    }
    if (this.paused && this.state !== S_WAIT) this.resume();
  }

  /** Route buffered bytes into the body. False when more bytes are needed (or it failed). */
  feedBody(buf: Buffer): boolean {
    const body = this.body!;
    let off = 0;
    const d = buf;
    switch (this.state) {
      case S_LENGTH: {
        const take = Math.min(this.remaining, d.length);
        this.remaining -= take;
        this.buf = take < d.length ? d.subarray(take) : null;
        const more = body.push(take === d.length ? d : d.subarray(0, take));
        if (this.remaining === 0) return this.endBody();
        if (!more) this.pause();
        return false;
      }
      case S_CHUNK_SIZE:
      case S_TRAILERS: {
        const eol = d.indexOf('\r\n', 0, 'latin1');
        if (eol === -1) {
          if (d.length > this.limits.maxHeaderSize) this.refuse(400, 'BAD_REQUEST');
          return false;
        }
        off = eol + 2;
        this.buf = off < d.length ? d.subarray(off) : null;
        if (this.state === S_TRAILERS) {
          if (eol === 0) return this.endBody();
          this.chunkLineBytes += eol + 2;
          // Trailer fields of a request are read and dropped (never forwarded).
          if (this.chunkLineBytes > this.limits.maxHeaderSize) {
            this.refuse(431, 'HEADERS_TOO_LARGE');
            return false;
          }
          return true;
        }
        const size = parseChunkSize(d, 0, eol);
        if (size < 0) {
          this.refuse(400, 'BAD_REQUEST');
          return false;
        }
        if (size === 0) {
          this.state = S_TRAILERS;
          this.chunkLineBytes = 0;
        } else {
          this.state = S_CHUNK_DATA;
          this.remaining = size;
        }
        return true;
      }
      case S_CHUNK_DATA: {
        const take = Math.min(this.remaining, d.length);
        this.remaining -= take;
        this.buf = take < d.length ? d.subarray(take) : null;
        const more = body.push(take === d.length ? d : d.subarray(0, take));
        if (this.remaining === 0) {
          this.state = S_CHUNK_CRLF;
          this.chunkLineBytes = 0;
        }
        if (!more) {
          this.pause();
          return false;
        }
        return true;
      }
      case S_CHUNK_CRLF: {
        while (off < d.length && this.chunkLineBytes < 2) {
          if (d[off] !== (this.chunkLineBytes === 0 ? 13 : 10)) {
            this.refuse(400, 'BAD_REQUEST');
            return false;
          }
          off++;
          this.chunkLineBytes++;
        }
        this.buf = off < d.length ? d.subarray(off) : null;
        if (this.chunkLineBytes < 2) return false;
        this.state = S_CHUNK_SIZE;
        return true;
      }
      default:
        return false;
    }
  }

  endBody(): boolean {
    const body = this.body!;
    this.body = null;
    this.state = S_WAIT;
    body.push(null);
    if (this.paused) this.resume();
    return true;
  }

  responseDone(res: H1Response): void {
    if (this.current !== res) return;
    this.current = null;
    if (this.state !== S_WAIT) {
      // Answered before the whole request body arrived: its remaining bytes cannot be told
      // from a next request, so the connection ends here.
      this.keepAlive = false;
      if (this.body !== null) {
        this.body.destroy();
        this.body = null;
      }
    }
    res.emit('finish');
    res.emit('close');
    if (!this.keepAlive) {
      this.close(false);
      return;
    }
    this.state = S_HEAD;
    this.active = this.buf !== null && this.buf.length > 0;
    this.since = Date.now();
    if (this.paused) this.resume();
    this.process();
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  /** Answer a refused request with the proxy's error page and close. */
  refuse(status: number, code: string, message = DEFAULT_MESSAGE[code] ?? 'bad request'): void {
    if (this.state === S_CLOSED) return;
    const res = this.current;
    this.current = null;
    if (res !== null) res.emit('close');
    if (this.body !== null) {
      this.body.destroy();
      this.body = null;
    }
    // A refusal in the middle of a response would corrupt it: then only closing is honest.
    if (res === null || !res.headersSent) this.socket.write(this.handlers.refusal(status, code, message), 'latin1');
    this.close(false);
  }

  /**
   * End the connection, or destroy it at once. Ending sends what was written and then closes the
   * socket for good, as node:http does: a client that neither reads nor closes (a slowloris)
   * cannot hold it open half-closed.
   */
  close(destroy: boolean): void {
    this.state = S_CLOSED;
    this.buf = null;
    ticker.unwatch(this);
    const sock = this.socket;
    if (destroy || sock.destroyed) {
      sock.destroy();
      return;
    }
    sock.once('finish', () => sock.destroy());
    sock.end();
  }

  /** Stop handling the socket (handed over to an upgrade). */
  detach(): void {
    this.state = S_CLOSED;
    this.buf = null;
    ticker.unwatch(this);
    // Only our own listeners: others (the listener's connection tracking) stay.
    this.socket.removeListener('data', this.onDataBound);
    this.socket.removeListener('drain', this.onDrainBound);
    this.socket.removeListener('close', this.onCloseBound);
    this.socket.removeListener('error', this.onErrorBound);
    this.socket.pause();
  }

  /** Timeouts: the head, the whole request, and idle keep-alive connections. */
  onTick(now: number): void {
    if (this.state === S_CLOSED) return;
    const l = this.limits;
    const waited = now - this.since;
    if (this.current === null && this.state === S_HEAD) {
      if (this.active) {
        if (l.headersTimeoutMs > 0 && waited >= l.headersTimeoutMs) this.refuse(408, 'CLIENT_TIMEOUT');
      } else if (l.keepAliveTimeoutMs > 0 && waited >= l.keepAliveTimeoutMs) {
        this.close(true);
      }
      return;
    }
    // The request is still arriving: bounded as a whole.
    if (this.state !== S_WAIT && l.requestTimeoutMs > 0 && waited >= l.requestTimeoutMs) this.refuse(408, 'CLIENT_TIMEOUT');
  }

  onClose(): void {
    this.state = S_CLOSED;
    this.buf = null;
    ticker.unwatch(this);
    if (this.body !== null) {
      // The client left mid-upload: the body ends in an error, not a short success.
      this.body.destroy(new Error('client closed the connection during the request body'));
      this.body = null;
    }
    const res = this.current;
    this.current = null;
    if (res !== null) res.emit('close');
  }
}

export function serveH1(socket: Socket, limits: H1ServerLimits, handlers: H1Handlers): H1Connection {
  return new H1Connection(socket, limits, handlers);
}
