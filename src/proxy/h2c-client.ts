/**
 * The upstream client for h2c backends (HTTP/2 prior knowledge, RFC 9113 3.3): gRPC and every
 * route whose backend says `kubernetes.io/h2c`. Built on node:http2's core API for the same
 * reasons as h1-client.ts, and because the proxy needs exact stream semantics for gRPC:
 * - every DATA frame reaches the handler before the trailers, also under backpressure (a paused
 *   response whose trailers arrive must not lose the frames still buffered);
 * - a request the proxy gives up on (client gone, timeout) resets its upstream stream
 *   (RST_STREAM CANCEL), which is how gRPC servers learn of a cancelled call;
 * - a stream the server refused (REFUSED_STREAM, or beyond a GOAWAY's last stream id) is known
 *   not to have been processed, so the exchange may retry it like a failed connect.
 *
 * One session per endpoint carries all streams; another is opened when the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS is reached, and a session that went away is replaced.
 */
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';
import { UpstreamError, type UpstreamControl, type UpstreamHandler, type UpstreamPool, type UpstreamRequest } from './h1-client.ts';
import { HOP_BY_HOP, isDecimal } from './headers.ts';
import type { ProxyLogger } from './logger.ts';

export interface H2cPoolOptions {
  readonly connectTimeoutMs: number;
  /**
   * A session silent for idleTimeoutMs: closed when it has no stream; with streams open it is
   * pinged, and a peer that does not answer the PING within this time is dead (its streams fail).
   * Silence alone never fails a stream: gRPC streams (watches) may be idle for hours.
   */
  readonly pingTimeoutMs: number;
  /** Silence after which a session is closed (no streams) or pinged (streams open). */
  readonly idleTimeoutMs: number;
  /** Cap of a response's header list (SETTINGS_MAX_HEADER_LIST_SIZE). */
  readonly maxHeaderBytes: number;
  readonly logger?: ProxyLogger;
}

const {
  HTTP2_HEADER_STATUS,
  NGHTTP2_CANCEL,
  NGHTTP2_FLAG_END_STREAM,
  NGHTTP2_REFUSED_STREAM,
} = constants;

/**
 * Response headers as the handler wants them: flat, no pseudo-headers, no connection-specific
 * fields; Content-Length only as one plain decimal (HTTP/1.1 clients get it as framing).
 */
export function headerList(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined || name.charCodeAt(0) === 58 /* ':' */ || HOP_BY_HOP.has(name)) continue;
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else out.push(name, v);
  }
  const cl = headers['content-length'];
  if (typeof cl === 'string' && isDecimal(cl)) out.push('content-length', cl);
  return out;
}

/** Trailers: never framing or connection fields (gRPC status lives here). */
export function trailerList(trailers: IncomingHttpHeaders | undefined): string[] | null {
  if (trailers === undefined) return null;
  const out: string[] = [];
  for (const name in trailers) {
    const v = trailers[name];
    if (v === undefined || name.charCodeAt(0) === 58 || HOP_BY_HOP.has(name)) continue;
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else out.push(name, v);
  }
  return out.length === 0 ? null : out;
}

/** Request headers for HTTP/2: pseudo-headers from the request, no connection-specific fields. */
function requestHeaders(req: UpstreamRequest): OutgoingHttpHeaders {
  const src = req.headerObject();
  const out: OutgoingHttpHeaders = {
    ':method': req.method,
    ':scheme': 'http',
    ':path': req.target,
  };
  for (const name in src) {
    const v = src[name]!;
    if (name === 'host') {
      out[':authority'] = Array.isArray(v) ? v[0] : v;
      continue;
    }
    // RFC 9113 8.2.2: connection-specific fields are malformed in HTTP/2; TE only as "trailers".
    if (name === 'te') {
      if (v === 'trailers') out.te = v;
      continue;
    }
    if (HOP_BY_HOP.has(name) && name !== 'content-length') continue;
    out[name] = v;
  }
  if (req.body !== null && req.bodyLength >= 0) out['content-length'] = String(req.bodyLength);
  else if (req.body === null) delete out['content-length'];
  return out;
}

interface SessionState {
  readonly session: ClientHttp2Session;
  active: number;
  /** Set when the session can take no new stream (GOAWAY, error, close). */
  gone: boolean;
  connectTimer: NodeJS.Timeout | undefined;
  connectError: (Error & { code?: string }) | undefined;
}

/** One request in flight: its stream, handler and control (the handler's UpstreamControl). */
class H2cCall implements UpstreamControl {
  readonly stream: ClientHttp2Stream;
  readonly handler: UpstreamHandler;
  readonly state: SessionState;
  readonly body: Readable | null;
  done = false;
  responded = false;
  trailers: IncomingHttpHeaders | undefined = undefined;

  constructor(stream: ClientHttp2Stream, handler: UpstreamHandler, state: SessionState, body: Readable | null) {
    this.stream = stream;
    this.handler = handler;
    this.state = state;
    this.body = body;
  }

  abort(_reason: Error): void {
    if (this.done) return;
    this.done = true;
    this.release();
    // RST_STREAM(CANCEL): the server's call is cancelled (gRPC), its resources freed.
    if (!this.stream.destroyed) this.stream.close(NGHTTP2_CANCEL);
  }

  pause(): void {
    // A paused stream stops consuming, so its flow-control window closes (backpressure upstream).
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  release(): void {
    const body = this.body;
    if (body !== null) body.unpipe(this.stream);
    this.state.active--;
  }

  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.release();
    if (!this.stream.destroyed) this.stream.close(NGHTTP2_CANCEL);
    this.handler.onResponseError(this, err);
  }
}

function onResponse(this: ClientHttp2Stream & { call: H2cCall }, headers: IncomingHttpHeaders, flags: number): void {
  const call = this.call;
  if (call.done) return;
  call.responded = true;
  const status = Number(headers[HTTP2_HEADER_STATUS]);
  // END_STREAM on the response HEADERS: the head is all (gRPC Trailers-Only). Otherwise any
  // HTTP/2 response may end with trailers; the handler asks the client side for them.
  const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
  call.handler.onResponseStart(call, status, headerList(headers), !endStream, endStream);
}

function onData(this: ClientHttp2Stream & { call: H2cCall }, chunk: Buffer): void {
  const call = this.call;
  if (!call.done) call.handler.onResponseData(call, chunk);
}

function onTrailers(this: ClientHttp2Stream & { call: H2cCall }, trailers: IncomingHttpHeaders): void {
  // Only stored: 'end' comes after every DATA frame buffered before the trailers was read.
  this.call.trailers = trailers;
}

function onEnd(this: ClientHttp2Stream & { call: H2cCall }): void {
  const call = this.call;
  if (call.done) return;
  if (!call.responded) return call.fail(new UpstreamError('UPSTREAM_RESET', 'the upstream ended the stream without a response'));
  call.done = true;
  call.release();
  // The server is done; a request body it did not read is not sent on (the stream closes).
  if (!this.writableFinished && !this.destroyed) this.close(constants.NGHTTP2_NO_ERROR);
  call.handler.onResponseEnd(call, trailerList(call.trailers), null);
}

function onStreamClose(this: ClientHttp2Stream & { call: H2cCall }): void {
  const call = this.call;
  if (call.done) return;
  const connectError = call.state.connectError;
  if (connectError !== undefined && !call.responded) return call.fail(connectError);
  // Refused, or never sent (no stream id: the session went away first): not processed.
  if (!call.responded && (this.rstCode === NGHTTP2_REFUSED_STREAM || this.id === undefined)) return call.fail(new UpstreamError('UPSTREAM_REFUSED_STREAM', 'the upstream refused the stream'));
  call.fail(new UpstreamError('UPSTREAM_RESET', `the upstream reset the stream (code ${this.rstCode})`));
}

function onStreamError(this: ClientHttp2Stream & { call: H2cCall }, err: Error & { code?: string }): void {
  const call = this.call;
  if (call.done) return;
  if (!call.responded) {
    const connectError = call.state.connectError;
    if (connectError !== undefined) return call.fail(connectError);
    // A stream that was still pending when its session failed: node cancels it with the
    // session's error as the cause (ECONNREFUSED...). It never reached the server.
    if (err.code === 'ERR_HTTP2_STREAM_CANCEL') {
      const cause = err.cause;
      return call.fail(cause instanceof Error ? cause : new UpstreamError('UPSTREAM_REFUSED_STREAM', 'the stream was never sent'));
    }
    if (this.rstCode === NGHTTP2_REFUSED_STREAM) return call.fail(new UpstreamError('UPSTREAM_REFUSED_STREAM', 'the upstream refused the stream'));
    // Beyond the last stream id of a GOAWAY: the server did not process it (RFC 9113 6.8).
    if (err.code === 'ERR_HTTP2_GOAWAY_SESSION') return call.fail(new UpstreamError('UPSTREAM_REFUSED_STREAM', 'the upstream went away before the stream'));
  }
  if (err.code === 'ERR_HTTP2_STREAM_ERROR') return call.fail(new UpstreamError('UPSTREAM_RESET', `the upstream reset the stream (code ${this.rstCode})`));
  call.fail(err);
}

export class H2cPool implements UpstreamPool {
  readonly #origin: string;
  readonly #opts: H2cPoolOptions;
  #sessions: SessionState[] = [];
  #closed = false;

  constructor(address: string, port: number, opts: H2cPoolOptions) {
    this.#origin = address.includes(':') ? `http://[${address}]:${port}` : `http://${address}:${port}`;
    this.#opts = opts;
  }

  dispatch(req: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.#closed) {
      handler.onResponseError(NO_CONTROL, new UpstreamError('UPSTREAM_CONNECT', 'the upstream pool is closed'));
      return;
    }
    const body = req.body;
    const headers = requestHeaders(req);
    let state = this.#session();
    let stream: ClientHttp2Stream & { call: H2cCall };
    try {
      stream = state.session.request(headers, { endStream: body === null }) as typeof stream;
    } catch {
      // The session went away between its last event and now (GOAWAY, closing): the request
      // was not sent, so it goes on a new session.
      this.#drop(state);
      state = this.#open();
      stream = state.session.request(headers, { endStream: body === null }) as typeof stream;
    }
    state.active++;
    const call = new H2cCall(stream, handler, state, body);
    stream.call = call;
    stream.on('response', onResponse);
    stream.on('data', onData);
    stream.on('trailers', onTrailers);
    stream.on('end', onEnd);
    stream.on('close', onStreamClose);
    stream.on('error', onStreamError);
    handler.onRequestStart(call);
    if (call.done || body === null) return;
    body.once('error', (err: Error) => call.fail(err));
    body.pipe(stream);
  }

  /** A session with room for one more stream, or a new one. */
  #session(): SessionState {
    const list = this.#sessions;
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      if (s.gone || s.session.closed || s.session.destroyed) continue;
      const max = s.session.remoteSettings?.maxConcurrentStreams ?? 100;
      if (s.active < max) return s;
    }
    return this.#open();
  }

  #open(): SessionState {
    const opts = this.#opts;
    const session = connect(this.#origin, {
      maxHeaderListPairs: 256,
      maxSessionMemory: 64,
      settings: { maxHeaderListSize: opts.maxHeaderBytes, enablePush: false },
    });
    const state: SessionState = { session, active: 0, gone: false, connectTimer: undefined, connectError: undefined };
    this.#sessions.push(state);
    if (opts.connectTimeoutMs > 0) {
      state.connectTimer = setTimeout(() => {
        state.connectError = new UpstreamError('UPSTREAM_CONNECT_TIMEOUT', 'could not connect to the upstream in time');
        session.destroy(state.connectError);
      }, opts.connectTimeoutMs);
      state.connectTimer.unref();
    }
    session.once('connect', () => {
      if (state.connectTimer !== undefined) clearTimeout(state.connectTimer);
      state.connectTimer = undefined;
    });
    session.on('error', (err: Error & { code?: string }) => {
      // Before the connection was up, every stream of the session failed to reach the server.
      if (session.connecting || !session.socket) state.connectError ??= err;
      opts.logger?.debug({ upstream: this.#origin, err: err.message }, 'upstream h2c session error');
      this.#drop(state);
    });
    session.on('goaway', () => this.#drop(state));
    session.on('close', () => {
      if (state.connectTimer !== undefined) clearTimeout(state.connectTimer);
      this.#drop(state);
    });
    session.setTimeout(opts.idleTimeoutMs, () => {
      if (state.active === 0) {
        this.#drop(state);
        session.close();
        return;
      }
      // Streams open and nothing heard: a live peer answers a PING; a dead one (no RST, no FIN)
      // would otherwise hold its streams and their clients forever.
      const dead = setTimeout(() => {
        this.#drop(state);
        session.destroy(new UpstreamError('UPSTREAM_RESPONSE_TIMEOUT', 'the upstream did not answer a PING in time'));
      }, opts.pingTimeoutMs);
      dead.unref();
      const sent = session.ping((err) => {
        clearTimeout(dead);
        if (err !== null) {
          if (!session.destroyed) session.destroy(err);
          return;
        }
        // Alive: watch the next silence too (the timer fired once; re-arm it).
        if (!session.destroyed) session.setTimeout(opts.idleTimeoutMs);
      });
      if (!sent) clearTimeout(dead);
    });
    // Idle sessions do not keep the process alive; streams in flight do (node refs them).
    session.unref();
    return state;
  }

  #drop(state: SessionState): void {
    state.gone = true;
    const i = this.#sessions.indexOf(state);
    if (i >= 0) this.#sessions.splice(i, 1);
  }

  close(): Promise<void> {
    this.#closed = true;
    const all = this.#sessions;
    this.#sessions = [];
    return Promise.all(all.map((s) => new Promise<void>((r) => (s.session.closed ? r() : s.session.close(() => r()))))).then(() => undefined);
  }

  destroy(): Promise<void> {
    this.#closed = true;
    const all = this.#sessions;
    this.#sessions = [];
    for (const s of all) s.session.destroy();
    return Promise.resolve();
  }
}

/** The control of a request that never started (closed pool): nothing to abort. */
const NO_CONTROL: UpstreamControl = { abort() {}, pause() {}, resume() {} };
