/**
 * One proxied HTTP request (HTTP/1.1 or HTTP/2 client side): route, filters, backend choice,
 * upstream dispatch with streaming both ways, timeouts, retries, and the proxy's own error
 * answers. The exchange object is itself the upstream request and its handler, and the timer and
 * stream callbacks are module-level functions, so a request allocates no closures.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { BindingState } from './binding-state.ts';
import {
  isGrpcContentType,
  newRequestId,
  sendError,
  sendKnownError,
  statusOf,
  type AnyResponse,
  type ErrorCode,
  type EventSource,
} from './errors.ts';
import { addResponseCors } from './filters/cors.ts';
import { parseGrpcTimeout } from './grpc.ts';
import { applyHeaderModifier, isDecimal, listToObject, type OutHeaders } from './headers.ts';
import { sendMirror, teeBody } from './mirror.ts';
import { H2Response, type H2Request } from './h2-stream.ts';
import { H1Request, H1Response } from './h1-server.ts';
import { bodyOf, RequestState, type AnyRequest } from './request-state.ts';
import type { CompiledBackend } from './router.ts';
import type { UpstreamControl, UpstreamHandler, UpstreamRequest } from './upstream.ts';
import type { HookResult, PluginAnswer } from '../plugins/index.ts';

/** A plugin hook that rejected (a bug or an unexpected I/O error): fail closed. */
const PLUGIN_FAILED: PluginAnswer = { status: 500, code: 'PLUGIN_FAILED', message: 'a plugin of this route failed' };

const kExchange = Symbol('fluxgate.exchange');
type Tagged = EventSource & { [kExchange]?: Exchange };

class ProxyTimeoutError extends Error {
  override readonly name = 'ProxyTimeoutError';
  readonly code = 'FLUXGATE_TIMEOUT';
}

class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
}

function onRequestTimeout(ex: Exchange): void {
  ex.requestTimer = undefined;
  ex.fail('TIMEOUT');
}

function onAttemptTimeout(ex: Exchange): void {
  ex.attemptTimer = undefined;
  // Gateway API HTTPRouteRetry: an attempt that reaches the BackendRequest timeout is
  // cancelled and retried after the backoff (HTTPRouteRetryBackendTimeout); the Request
  // timeout still bounds the whole exchange.
  if (ex.mayRetry()) {
    const ctl = ex.controller;
    ex.controller = undefined;
    ctl?.abort(new ProxyTimeoutError('TIMEOUT'));
    ex.retry();
  } else {
    ex.fail('TIMEOUT');
  }
}

function onRetryTimer(ex: Exchange): void {
  ex.retryTimer = undefined;
  if (!ex.done) ex.dispatch();
}

function onResponseClose(this: Tagged): void {
  const ex = this[kExchange];
  if (ex !== undefined && !ex.done) ex.clientGone();
}

function onResponseDrain(this: Tagged): void {
  const ex = this[kExchange];
  if (ex !== undefined && !ex.done) ex.controller?.resume();
}

/** Upstream connect failures: nothing reached the backend, so any request may be retried. */
function errorCodeOf(err: Error & { code?: string }): ErrorCode {
  switch (err.code) {
    case 'FLUXGATE_TIMEOUT':
    case 'UPSTREAM_RESPONSE_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'TIMEOUT';
    case 'ECONNREFUSED':
    case 'UPSTREAM_CONNECT_TIMEOUT':
    case 'UPSTREAM_REFUSED_STREAM': // an h2c stream refused or never sent: not processed either
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'UPSTREAM_CONNECT';
    default:
      return 'UPSTREAM_RESET';
  }
}

/** Body length of the client's request: -2 none, -1 unknown (sent chunked), else the length. */
function requestBodyLength(req: AnyRequest): number {
  const h = req.headers;
  if (req.httpVersionMajor === 2) {
    if ((req as H2Request).stream.endAfterHeaders) return -2;
    const cl = h['content-length'];
    return typeof cl === 'string' && isDecimal(cl) ? Number(cl) : -1;
  }
  // Our HTTP/1.1 server and node:http already rejected ambiguous or malformed framing.
  if (req instanceof H1Request) return req.bodyLength;
  if (h['transfer-encoding'] !== undefined) return -1;
  const cl = h['content-length'];
  return cl === undefined || cl === '0' ? -2 : Number(cl);
}

export class Exchange extends RequestState implements UpstreamRequest, UpstreamHandler {
  readonly res: AnyResponse;
  /** Where the response's 'close' and 'drain' are emitted (the response, or the HTTP/2 stream). */
  readonly ev: Tagged;
  backend: CompiledBackend | undefined = undefined;
  controller: UpstreamControl | undefined = undefined;
  method = 'GET';
  body: Readable | null = null;
  bodyLength = -1;
  done = false;
  /** The current attempt's response is a retryable status: drain it and try again. */
  discard = false;
  /** The response was sent complete with its head (Trailers-Only); nothing is left to end. */
  headOnly = false;
  attempts = 0;
  requestTimer: NodeJS.Timeout | undefined = undefined;
  attemptTimer: NodeJS.Timeout | undefined = undefined;
  retryTimer: NodeJS.Timeout | undefined = undefined;

  constructor(b: BindingState, req: AnyRequest, res: AnyResponse) {
    super(b, req);
    this.res = res;
    this.ev = (res.events ?? res) as Tagged;
  }

  /** gRPC clients get gRPC status instead of a JSON error page (only looked at on errors). */
  get grpc(): boolean {
    return isGrpcContentType(this.req.headers['content-type']);
  }

  /** UpstreamRequest: path and query for the upstream request line. */
  get target(): string {
    return this.upTarget;
  }

  start(): void {
    const ev = this.ev;
    ev[kExchange] = this;
    // A response emits 'close' once; `on` spares the wrapper `once` would allocate.
    ev.on('close', onResponseClose);
    const code = this.resolve();
    if (code !== undefined) return this.fail(code);
    const route = this.route!;
    if (route.filters.length > 0) {
      const stop = this.runFilters(route.filters);
      if (stop !== undefined) return this.stop(stop);
    }
    this.proceed();
  }

  /** After the route's filters: pick the backend and send the request upstream. */
  proceed(): void {
    const route = this.route!;
    let deadline = route.requestMs > 0 ? route.requestMs : -1;
    const grpcTimeout = this.req.headers['grpc-timeout'];
    if (grpcTimeout !== undefined) {
      // The gRPC client's deadline bounds the call here too: the backend's stream is reset when
      // it passes and the client gets DEADLINE_EXCEEDED, whichever timeout is shorter.
      const ms = parseGrpcTimeout(grpcTimeout);
      if (ms >= 0 && (deadline < 0 || ms < deadline)) deadline = ms;
    }
    if (deadline >= 0) this.requestTimer = setTimeout(onRequestTimeout, deadline, this);
    const ref = route.picker?.pick();
    if (ref === undefined) return this.fail('NO_BACKEND');
    if (ref.kind === 'invalid') {
      // Gateway API: an unresolved backendRef answers 500 for its share of the traffic.
      return this.failWith(ref.status, ref.code, 'the backend of this route share is not valid');
    }
    if (ref.backend === undefined) return this.failWith(500, 'BACKEND_NOT_FOUND', 'the backend is not in the routing table');
    if (ref.filters.length > 0) {
      const s = this.runFilters(ref.filters);
      if (s !== undefined) return this.stop(s);
    }
    this.backend = ref.backend;
    if (ref.backend.endpoints.items.length === 0) return this.fail('NO_ENDPOINTS');
    const req = this.req;
    this.method = req.method ?? 'GET';
    const length = requestBodyLength(req);
    const withBody = length !== -2;
    this.bodyLength = length;
    const mirrors = this.mirrors;
    if (mirrors !== undefined) {
      const target = this.upTarget;
      const headers = this.upHeaders;
      if (withBody) {
        const { main, copies } = teeBody(bodyOf(req), mirrors.length, this.b.limits.maxMirrorBufferBytes);
        this.body = main;
        for (let i = 0; i < mirrors.length; i++) sendMirror(mirrors[i]!.backend, this.method, target, headers, copies[i]!, length, this.b.logger);
      } else {
        for (let i = 0; i < mirrors.length; i++) sendMirror(mirrors[i]!.backend, this.method, target, headers, null, -1, this.b.logger);
      }
    } else if (withBody) {
      this.body = bodyOf(req);
    }
    this.dispatch();
  }

  dispatch(): void {
    const ep = this.backend!.endpoints.pick()!;
    this.attempts++;
    this.discard = false;
    this.controller = undefined;
    const route = this.route!;
    if (route.backendRequestMs > 0) this.attemptTimer = setTimeout(onAttemptTimeout, route.backendRequestMs, this);
    try {
      ep.pool.dispatch(this, this);
    } catch (err) {
      this.b.logger.debug({ route: route.id, err: (err as Error).message }, 'upstream dispatch failed');
      this.fail('INTERNAL');
    }
  }

  // ---- UpstreamHandler --------------------------------------------------------------------

  onRequestStart(controller: UpstreamControl): void {
    if (this.done) controller.abort(new ClientGoneError('request already finished'));
    else this.controller = controller;
  }

  onResponseStart(controller: UpstreamControl, statusCode: number, headers: string[], trailers: boolean, endStream?: boolean): void {
    if (this.done) return;
    const route = this.route!;
    if (this.attempts <= route.retryAttempts && this.body === null && route.retryCodes.has(statusCode)) {
      this.discard = true;
      return;
    }
    const res = this.res;
    const close = this.b.closing && this.req.httpVersionMajor === 1;
    let out: string[] | OutHeaders = headers;
    let own: string | undefined;
    const mods = this.resMods;
    const pl = this.pluginResLines;
    if (mods !== undefined || this.cors !== undefined || this.pluginResHooks !== undefined) {
      const obj = listToObject(headers);
      if (mods !== undefined) for (let i = 0; i < mods.length; i++) applyHeaderModifier(obj, mods[i]!);
      if (this.cors !== undefined) addResponseCors(this.cors, this.req.headers.origin, obj);
      const ph = this.pluginResPairs();
      if (ph !== undefined) for (let i = 0; i < ph.length; i += 2) obj[ph[i]!] = ph[i + 1]!;
      const hooks = this.pluginResHooks;
      if (hooks !== undefined) for (let i = 0; i < hooks.length; i++) hooks[i]!(statusCode, obj);
      if (close) obj.connection = 'close';
      out = obj;
    } else {
      // Plugin headers alone (rate limits) keep the flat list: no header object per response.
      // Our own HTTP/1.1 server takes a block's ready lines as they are (see writeHead).
      if (pl !== undefined && res.constructor === H1Response) own = pl;
      else {
        const ph = this.pluginResPairs();
        if (ph !== undefined) for (let i = 0; i < ph.length; i++) headers.push(ph[i]!);
      }
      if (close) headers.push('connection', 'close');
    }
    if (trailers && res instanceof H2Response) res.waitForTrailers = true;
    try {
      if (endStream === true && res.respondAndEnd !== undefined) {
        // The upstream's head was the whole answer (gRPC Trailers-Only): so is ours.
        this.headOnly = true;
        res.respondAndEnd(statusCode, Array.isArray(out) ? listToObject(out) : out);
      } else {
        if (own !== undefined) (res as H1Response).writeHead(statusCode, out, own);
        else res.writeHead(statusCode, out);
      }
    } catch (err) {
      this.b.logger.debug({ route: route.id, err: (err as Error).message }, 'invalid upstream response headers');
      controller.abort(err as Error);
      this.failWith(502, 'UPSTREAM_RESET', 'the upstream sent an invalid response');
    }
  }

  onResponseData(controller: UpstreamControl, chunk: Buffer): void {
    if (this.discard || this.done) return;
    if (!this.res.write(chunk)) {
      controller.pause();
      this.ev.once('drain', onResponseDrain);
    }
  }

  onResponseEnd(_controller: UpstreamControl, trailers: string[] | null, last: Buffer | null): void {
    if (this.done) return;
    if (this.discard) return this.retry();
    this.finish();
    if (this.headOnly) return;
    const res = this.res;
    if (trailers !== null) {
      try {
        res.addTrailers(listToObject(trailers));
      } catch {
        // An invalid trailer is dropped rather than failing a finished response.
      }
    }
    if (last !== null) res.end(last);
    else res.end();
  }

  onResponseError(_controller: UpstreamControl, err: Error): void {
    if (this.done) return;
    const code = errorCodeOf(err);
    const route = this.route!;
    // Gateway API HTTPRouteRetry: "Implementations SHOULD retry on connection errors
    // (disconnect, reset, timeout, TCP failure) if a retry stanza is configured"
    // (HTTPRouteRetryConnectionError): any failure before the answer started.
    if (this.mayRetry()) return this.retry();
    this.b.logger.debug({ route: route.id, err: err.message, code }, 'upstream request failed');
    this.fail(code);
  }

  // ---- completion -------------------------------------------------------------------------

  /**
   * Another attempt is allowed: retries left, nothing of an answer sent to the client yet, and
   * no request body (it was streamed to the failed attempt and cannot be replayed).
   */
  mayRetry(): boolean {
    return !this.done && !this.res.headersSent && this.body === null && this.attempts <= this.route!.retryAttempts;
  }

  retry(): void {
    this.clearAttempt();
    const backoff = this.route!.retryBackoffMs;
    if (backoff > 0) this.retryTimer = setTimeout(onRetryTimer, backoff, this);
    else this.dispatch();
  }

  clearAttempt(): void {
    if (this.attemptTimer !== undefined) {
      clearTimeout(this.attemptTimer);
      this.attemptTimer = undefined;
    }
  }

  /**
   * Done with this request: timers cleared, and the upstream control handed back (the caller
   * aborts it when the request did not complete). After this, no late pause/resume/abort can
   * reach a connection that moved on to another request.
   */
  finish(): UpstreamControl | undefined {
    this.done = true;
    this.clearAttempt();
    const ctl = this.controller;
    this.controller = undefined;
    if (this.requestTimer !== undefined) {
      clearTimeout(this.requestTimer);
      this.requestTimer = undefined;
    }
    if (this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    return ctl;
  }

  /** Abort whatever is in flight upstream and answer with a stable error. */
  fail(code: ErrorCode): void {
    if (this.done) return;
    this.finish()?.abort(new ProxyTimeoutError(code));
    if (this.pluginResHooks !== undefined) this.notifyPlugins(statusOf(code));
    sendKnownError(this.res, code, newRequestId(), this.grpc, this.closeHeader());
  }

  failWith(status: number, code: string, message: string): void {
    if (this.done) return;
    this.finish()?.abort(new ProxyTimeoutError(code));
    if (this.pluginResHooks !== undefined) this.notifyPlugins(status);
    sendError(this.res, status, code, message, newRequestId(), this.grpc, this.closeHeader());
  }

  /** Plugins that follow outcomes (circuit breaker) also see the proxy's own error answers. */
  notifyPlugins(status: number): void {
    const hooks = this.pluginResHooks!;
    const scratch: OutHeaders = {};
    for (let i = 0; i < hooks.length; i++) hooks[i]!(status, scratch);
  }

  clientGone(): void {
    this.finish()?.abort(new ClientGoneError('client closed the connection'));
  }

  closeHeader(): Record<string, string> | undefined {
    return this.b.closing && this.req.httpVersionMajor === 1 ? { connection: 'close' } : undefined;
  }

  stop(s: NonNullable<ReturnType<RequestState['runFilters']>>): void {
    this.finish()?.abort(new ClientGoneError('answered by a filter'));
    const res = this.res;
    const close = this.closeHeader();
    switch (s.kind) {
      case 'redirect':
        res.writeHead(s.status, { location: s.location, 'content-length': '0', ...close });
        res.end();
        return;
      case 'preflight':
        res.writeHead(200, { ...s.headers, ...close });
        res.end();
        return;
      case 'plugin': {
        this.done = false;
        const a = s.answer;
        if (a === undefined) return this.failWith(500, 'PLUGIN_UNAVAILABLE', `plugin filter ${s.id} is not available`);
        if (a.status >= 300 && a.status < 400) {
          // Redirects (OIDC login) carry their own headers and no error body.
          this.done = true;
          res.writeHead(a.status, { ...a.headers, 'content-length': '0', ...close } as OutgoingHttpHeaders);
          res.end();
          return;
        }
        this.done = true;
        sendError(res, a.status, a.code, a.message, newRequestId(), this.grpc, { ...(a.headers as Record<string, string>), ...close });
        return;
      }
      case 'pluginWait':
        // The request waits for the plugin (Redis, a JWKS fetch, a password hash); the
        // exchange is not finished yet, so a client that leaves meanwhile is noticed.
        this.done = false;
        s.promise.then((r) => this.afterPlugin(s, r), (err: unknown) => {
          this.b.logger.error({ route: this.route?.id, plugin: s.id, err: err instanceof Error ? err.message : String(err) }, 'plugin failed; failing closed');
          this.afterPlugin(s, PLUGIN_FAILED);
        });
        return;
    }
  }

  afterPlugin(s: { readonly id: string; readonly next: number }, r: HookResult): void {
    if (this.done || this.res.writableFinished) return;
    if (r !== undefined) return this.stop({ kind: 'plugin', id: s.id, answer: r });
    const stop = this.runFilters(this.route!.filters, s.next);
    if (stop !== undefined) return this.stop(stop);
    this.proceed();
  }
}

export function handleRequest(b: BindingState, req: AnyRequest, res: AnyResponse): void {
  new Exchange(b, req, res).start();
}

