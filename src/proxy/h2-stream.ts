/**
 * HTTP/2 client requests on node:http2's core stream API instead of its compatibility layer.
 * The compat objects (Http2ServerRequest, a Readable, and Http2ServerResponse, a Stream, with
 * their state, header maps and always-on trailer handshake) cost more CPU and garbage per request
 * than everything the proxy does itself; these two small classes carry only what the exchange
 * reads and writes, over the Http2Stream (whose readable side is the request body).
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { AnyResponse } from './errors.ts';
import { listToObject } from './headers.ts';
import { headerKey } from './http-syntax.ts';

/**
 * A response head as node:http2 takes it: `:status` and lower-case field names (RFC 9113
 * 8.2.1; HTTP/1.1 upstreams may send others). node:http2 writes pseudo-headers first wherever
 * they sit in the object.
 */
function h2Head(statusCode: number, headers: OutgoingHttpHeaders | string[] | undefined): OutgoingHttpHeaders {
  if (Array.isArray(headers)) {
    const out: OutgoingHttpHeaders = listToObject(headers);
    out[':status'] = statusCode;
    return out;
  }
  const out: OutgoingHttpHeaders = { ':status': statusCode };
  if (headers !== undefined) {
    for (const name in headers) {
      const v = headers[name];
      if (v !== undefined) out[headerKey(name)] = v;
    }
  }
  return out;
}

/** The request as RequestState reads it (the subset of IncomingMessage it uses). */
export class H2Request {
  readonly httpVersionMajor = 2;
  readonly httpVersionMinor = 0;
  readonly stream: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly method: string | undefined;
  readonly url: string | undefined;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]) {
    this.stream = stream;
    this.headers = headers;
    this.rawHeaders = rawHeaders;
    this.method = headers[':method'] as string | undefined;
    this.url = headers[':path'] as string | undefined;
  }

  /** The session's socket (node:http2 hands out a proxy of it). */
  get socket(): Socket | undefined {
    return this.stream.session?.socket as Socket | undefined;
  }
}

/** The response as the exchange and errors.ts write it. */
export class H2Response implements AnyResponse {
  readonly stream: ServerHttp2Stream;
  /** Ask for the trailers handshake: set before writeHead when the upstream may send trailers. */
  waitForTrailers = false;
  trailers: OutgoingHttpHeaders | undefined = undefined;

  constructor(stream: ServerHttp2Stream) {
    this.stream = stream;
  }

  /** Listeners go on the stream ('close', 'drain'). */
  get events(): ServerHttp2Stream {
    return this.stream;
  }

  get headersSent(): boolean {
    return this.stream.headersSent;
  }

  get writableFinished(): boolean {
    return this.stream.writableFinished;
  }

  writeHead(statusCode: number, headers?: OutgoingHttpHeaders | string[]): this {
    // A stream the client reset is gone before its 'close' event runs the exchange's cleanup.
    const s = this.stream;
    if (s.destroyed || s.closed || s.headersSent) return this;
    const out = h2Head(statusCode, headers);
    const stream = this.stream;
    if (this.waitForTrailers) {
      stream.respond(out, { waitForTrailers: true });
      stream.once('wantTrailers', onWantTrailers);
      (stream as TrailerStream)[kTrailersOf] = this;
    } else {
      stream.respond(out);
    }
    return this;
  }

  write(chunk: Buffer): boolean {
    const s = this.stream;
    if (s.destroyed || s.closed) return true;
    return s.write(chunk);
  }

  end(chunk?: string | Buffer): this {
    const stream = this.stream;
    if (stream.writableEnded || stream.destroyed || stream.closed) return this;
    if (!stream.headersSent) stream.respond({ ':status': 200 });
    if (chunk === undefined) stream.end();
    else stream.end(chunk);
    // A request body nobody reads any more (answered early, or upstream done with it) is drained,
    // so the client's side of the stream can finish.
    if (!stream.readableEnded) stream.resume();
    return this;
  }

  respondAndEnd(statusCode: number, headers: OutgoingHttpHeaders): void {
    const stream = this.stream;
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    const out = h2Head(statusCode, headers);
    // One HEADERS frame with END_STREAM, no empty DATA frame: a gRPC Trailers-Only response.
    stream.respond(out, { endStream: true });
    if (!stream.readableEnded) stream.resume();
  }

  endWithTrailers(trailers: OutgoingHttpHeaders): boolean {
    const stream = this.stream;
    if (!this.waitForTrailers || stream.writableEnded || stream.destroyed || stream.closed) return false;
    this.trailers = trailers;
    stream.end();
    if (!stream.readableEnded) stream.resume();
    return true;
  }

  addTrailers(headers: OutgoingHttpHeaders): void {
    this.trailers = headers;
  }

  destroy(): this {
    this.stream.destroy();
    return this;
  }

  once(event: string, listener: (...args: never[]) => void): this {
    this.stream.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  on(event: string, listener: (...args: never[]) => void): this {
    this.stream.on(event, listener as (...args: unknown[]) => void);
    return this;
  }
}

const kTrailersOf = Symbol('fluxgate.h2trailers');
type TrailerStream = ServerHttp2Stream & { [kTrailersOf]?: H2Response };

function onWantTrailers(this: TrailerStream): void {
  const res = this[kTrailersOf];
  this[kTrailersOf] = undefined;
  try {
    this.sendTrailers(res?.trailers ?? {});
  } catch {
    // An invalid trailer is dropped rather than failing a finished response.
    try {
      this.sendTrailers({});
    } catch {
      this.close();
    }
  }
}
