/**
 * WORK IN PROGRESS (branch h1-server): FluxGate's own HTTP/1.1 server connection, in place of
 * node:http's, which costs most of FluxGate's CPU per request (bench/ANALYSIS.md). Reads a
 * socket, parses each request head strictly (request-head.ts), hands the exchange an H1Request
 * and an H1Response shaped like the HTTP/2 pair (h2-stream.ts), and writes the response head
 * itself. One request at a time per connection: bytes of a pipelined next request wait until
 * the current response is complete.
 *
 * Not done yet: request bodies (Content-Length and chunked, with backpressure), 100-continue,
 * upgrades (WebSocket), trailers, the headers/idle timeouts, graceful close on drain, TLS
 * sockets. Until then it is only reachable with FLUXGATE_H1_SERVER=own on plain listeners, for
 * measurement.
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { CTL, isToken } from './http-syntax.ts';
import { isHeadError, parseRequestHead } from './request-head.ts';

export interface H1ServerLimits {
  readonly maxHeaderSize: number;
  readonly maxHeaderCount: number;
}

export type H1Handler = (req: H1Request, res: H1Response) => void;

/** The request as RequestState reads it (the subset of IncomingMessage it uses). */
export class H1Request {
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor: number;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly socket: Socket;

  constructor(socket: Socket, method: string, url: string, minor: number, headers: IncomingHttpHeaders, rawHeaders: string[]) {
    this.socket = socket;
    this.method = method;
    this.url = url;
    this.httpVersionMinor = minor;
    this.headers = headers;
    this.rawHeaders = rawHeaders;
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

class InvalidHeaderError extends Error {
  override readonly name = 'InvalidHeaderError';
  readonly code = 'ERR_INVALID_HTTP_TOKEN';
}

/** The response as the exchange and errors.ts write it. */
export class H1Response extends EventEmitter {
  readonly conn: H1Connection;
  readonly head: boolean;
  headersSent = false;
  writableFinished = false;
  /** Head built by writeHead, sent with the first body bytes. */
  pendingHead: string | null = null;
  chunked = false;
  noBody = false;
  trailers: OutgoingHttpHeaders | null = null;

  constructor(conn: H1Connection, isHead: boolean) {
    super();
    this.conn = conn;
    this.head = isHead;
  }

  writeHead(statusCode: number, headers?: OutgoingHttpHeaders | string[]): this {
    if (this.headersSent) return this;
    let h = `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Unknown'}\r\n`;
    let length = false;
    let date = false;
    let close = !this.conn.keepAlive;
    const add = (name: string, value: string): void => {
      if (!isToken(name, 0, name.length) || CTL.test(value)) throw new InvalidHeaderError(`invalid response header ${name}`);
      const n = name.length;
      if (n === 14 || n === 4 || n === 10 || n === 17) {
        const lower = name.toLowerCase();
        if (lower === 'content-length') length = true;
        else if (lower === 'date') date = true;
        else if (lower === 'connection') {
          if (value.toLowerCase() === 'close') close = true;
          return;
        } else if (lower === 'transfer-encoding') return;
      }
      h += `${name}: ${value}\r\n`;
    };
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) add(headers[i]!, headers[i + 1]!);
    } else if (headers !== undefined) {
      for (const name in headers) {
        const v = headers[name];
        if (v === undefined) continue;
        if (Array.isArray(v)) for (const x of v) add(name, x);
        else add(name, String(v));
      }
    }
    if (!date) h += `Date: ${httpDate()}\r\n`;
    this.noBody = this.head || statusCode === 204 || statusCode === 304 || statusCode < 200;
    if (!length && !this.noBody) {
      if (this.conn.minor === 1) {
        this.chunked = true;
        h += 'Transfer-Encoding: chunked\r\n';
      } else {
        close = true;
      }
    }
    if (close) this.conn.keepAlive = false;
    h += close ? 'Connection: close\r\n\r\n' : 'Connection: keep-alive\r\n\r\n';
    this.pendingHead = h;
    this.headersSent = true;
    return this;
  }

  write(chunk: Buffer): boolean {
    if (this.writableFinished) return true;
    if (!this.headersSent) this.writeHead(200);
    const sock = this.conn.socket;
    const head = this.pendingHead;
    this.pendingHead = null;
    if (this.noBody || chunk.length === 0) return head === null ? true : sock.write(head, 'latin1');
    if (this.chunked) {
      sock.write(`${head ?? ''}${chunk.length.toString(16)}\r\n`, 'latin1');
      sock.write(chunk);
      return sock.write('\r\n', 'latin1');
    }
    if (head !== null) sock.write(head, 'latin1');
    return sock.write(chunk);
  }

  end(chunk?: string | Buffer): this {
    if (this.writableFinished) return this;
    if (!this.headersSent) this.writeHead(200);
    const sock = this.conn.socket;
    const head = this.pendingHead;
    if (head !== null && !this.chunked && Buffer.isBuffer(chunk) && chunk.length > 0 && chunk.length <= SMALL_BODY && !this.noBody) {
      // Head and a small body in one string: one write, no iovec array and no second buffer.
      this.pendingHead = null;
      sock.write(head + chunk.toString('latin1'), 'latin1');
      this.writableFinished = true;
      this.conn.responseDone(this);
      return this;
    }
    sock.cork();
    if (chunk !== undefined && chunk.length > 0) this.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    else if (this.pendingHead !== null) {
      sock.write(this.pendingHead, 'latin1');
      this.pendingHead = null;
    }
    if (this.chunked) sock.write('0\r\n\r\n', 'latin1');
    sock.uncork();
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

/** One client connection. */
export class H1Connection {
  readonly socket: Socket;
  readonly limits: H1ServerLimits;
  readonly handler: H1Handler;
  buf: Buffer | null = null;
  current: H1Response | null = null;
  keepAlive = true;
  minor = 1;

  constructor(socket: Socket, limits: H1ServerLimits, handler: H1Handler) {
    this.socket = socket;
    this.limits = limits;
    this.handler = handler;
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.current?.emit('drain'));
  }

  onData(d: Buffer): void {
    this.buf = this.buf === null ? d : Buffer.concat([this.buf, d]);
    if (this.current === null) this.next();
  }

  /** Parse and dispatch the next complete request head in the buffer, if any. */
  next(): void {
    const buf = this.buf;
    if (buf === null) return;
    const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
    if (end === -1) {
      if (buf.length > this.limits.maxHeaderSize) this.refuse(431, 'HEADERS_TOO_LARGE');
      return;
    }
    if (end > this.limits.maxHeaderSize) return this.refuse(431, 'HEADERS_TOO_LARGE');
    const r = parseRequestHead(buf.toString('latin1', 0, end), this.limits.maxHeaderCount);
    if (isHeadError(r)) return this.refuse(r.status, r.code);
    if (r.bodyLength !== -2 || r.upgrade) return this.refuse(501, 'NOT_IMPLEMENTED');
    this.buf = end + 4 < buf.length ? buf.subarray(end + 4) : null;
    this.keepAlive = r.keepAlive;
    this.minor = r.httpVersionMinor;
    const res = new H1Response(this, r.method === 'HEAD');
    this.current = res;
    this.handler(new H1Request(this.socket, r.method, r.url, r.httpVersionMinor, r.headers, r.rawHeaders), res);
  }

  responseDone(res: H1Response): void {
    if (this.current !== res) return;
    this.current = null;
    res.emit('finish');
    res.emit('close');
    if (!this.keepAlive) {
      this.socket.end();
      return;
    }
    if (this.buf !== null) this.next();
  }

  refuse(status: number, code: string): void {
    const body = JSON.stringify({ error: { code, status } });
    this.socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`, 'latin1');
    this.buf = null;
  }

  onClose(): void {
    const res = this.current;
    this.current = null;
    if (res !== null) res.emit('close');
  }
}

export function serveH1(socket: Socket, limits: H1ServerLimits, handler: H1Handler): H1Connection {
  return new H1Connection(socket, limits, handler);
}
