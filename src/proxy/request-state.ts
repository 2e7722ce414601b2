/**
 * Shared first half of every request (plain, HTTP/2 or WebSocket upgrade): pick the virtual
 * host and route, normalise the path, build upstream headers, run the request-phase filters.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { BindingState } from './binding-state.ts';
import { H1Request } from './h1-server.ts';
import { fieldLinePairs } from './http-syntax.ts';
import type { ErrorCode } from './errors.ts';
import { applyPathModifier } from './filters/path-modifier.ts';
import { buildLocation } from './filters/redirect.ts';
import { isPreflight, preflightHeaders, type CompiledCors } from './filters/cors.ts';
import type { MirrorTarget } from './filters/compile.ts';
import {
  applyHeaderModifier,
  buildUpstreamHeaders,
  clientIpOf,
  headerLinesOf,
  hostWithoutPort,
  upstreamHeaderLines,
  type CompiledHeaderModifier,
  type ForwardContext,
  type OutHeaders,
} from './headers.ts';
import type { H2Request } from './h2-stream.ts';
import { normalisePath } from './path-normalise.ts';
import type { CompiledBackend, CompiledRoute, Step } from './router.ts';
import type { HookResult, PluginAnswer, PluginRequest, ResponseHook } from '../plugins/index.ts';

export type AnyRequest = IncomingMessage | H2Request | H1Request;

/** The readable side carrying the request body (HTTP/2: the stream itself). */
export function bodyOf(req: AnyRequest): Readable {
  if (req.httpVersionMajor === 2) return (req as H2Request).stream;
  if (req instanceof H1Request) return req.body ?? Readable.from([]);
  return req as IncomingMessage;
}

export type FilterStop =
  | { readonly kind: 'redirect'; readonly status: number; readonly location: string }
  | { readonly kind: 'preflight'; readonly headers: OutHeaders }
  /** A plugin answered (or, without `answer`, no plugin runtime can run it: 500). */
  | { readonly kind: 'plugin'; readonly id: string; readonly answer?: PluginAnswer }
  /** A plugin decides asynchronously: wait, then answer or go on with the filter at `next`. */
  | { readonly kind: 'pluginWait'; readonly id: string; readonly promise: Promise<HookResult>; readonly next: number };

export class RequestState implements PluginRequest {
  readonly b: BindingState;
  readonly req: AnyRequest;
  route: CompiledRoute | undefined = undefined;
  /** Normalised request path (what routing saw). */
  path = '/';
  /** Raw query string without `?`. */
  query = '';
  /** Host header as the client sent it (with port). */
  rawHost = '';
  /** Host without port, lower case. */
  host = '';
  /**
   * Upstream headers as an object, built only when a filter (or a mirror, or undici) needs one;
   * otherwise the upstream header lines are written straight from the client's headers.
   */
  #up: OutHeaders | undefined = undefined;
  /** Name/value pairs plugins added before the header object existed (see addUpstreamHeader). */
  #extra: string[] | undefined = undefined;
  upPath = '/';
  resMods: CompiledHeaderModifier[] | undefined = undefined;
  cors: CompiledCors | undefined = undefined;
  mirrors: MirrorTarget<CompiledBackend>[] | undefined = undefined;
  /** Set by an authentication plugin (PluginRequest). */
  consumer: string | undefined = undefined;
  /**
   * Response fields plugins add (rate-limit headers): the one block of field lines added (the
   * common case, written as it is), or, once anything else joins it, name/value pairs where
   * the last value for a name wins. Never both.
   */
  pluginResLines: string | undefined = undefined;
  pluginResHeaders: string[] | undefined = undefined;
  pluginResHooks: ResponseHook[] | undefined = undefined;

  constructor(b: BindingState, req: AnyRequest) {
    this.b = b;
    this.req = req;
  }

  get scheme(): 'http' | 'https' {
    return this.b.secure ? 'https' : 'http';
  }

  // PluginRequest: what plugin hooks read, straight from this object (no allocation).
  get httpMethod(): string {
    return this.req.method ?? 'GET';
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  get peerAddress(): string {
    return clientIpOf(this.req.socket?.remoteAddress);
  }

  get routeId(): string {
    return this.route?.id ?? '';
  }

  /** Route the request; an error code when the proxy must answer itself. */
  resolve(): ErrorCode | undefined {
    const { req, b } = this;
    const headers = req.headers;
    const cl = b.listener;
    if (req.rawHeaders.length > 2 * b.limits.maxHeaderCount) return 'HEADERS_TOO_LARGE';
    const authority = req.httpVersionMajor === 2 ? ((headers[':authority'] as string | undefined) ?? headers.host) : headers.host;
    if (authority === undefined || authority === '') return 'BAD_REQUEST';
    const host = hostWithoutPort(authority);
    const vh = cl.selectVirtualHost(host);
    if (vh === undefined) return 'NO_ROUTE';
    if (b.secure) {
      // Gateway API: a request whose Host belongs to another listener than the one the TLS
      // handshake (SNI) selected is misdirected (RFC 9110 15.5.20), even if we could serve it.
      const sni = (req.socket as TLSSocket).servername;
      if (typeof sni === 'string' && sni !== '') {
        if (cl.selectGatewayListener(sni) !== vh.listenerId) return 'MISDIRECTED';
      } else if (b.tls !== undefined && b.tls.validation.size > 0 && b.tls.fallbackId !== vh.listenerId && b.tls.validation.has(vh.listenerId)) {
        // Without SNI the handshake used the default listener's context: its client certificate
        // check says nothing about a listener that validates clients with another CA.
        return 'MISDIRECTED';
      }
    }
    let target = req.url ?? '';
    if (target.charCodeAt(0) !== 47) {
      // Absolute-form (RFC 9112 3.2.2): keep only the path and query.
      const m = /^https?:\/\/[^/?#]*/i.exec(target);
      if (m === null) return 'BAD_REQUEST';
      target = target.slice(m[0].length) || '/';
    }
    const qi = target.indexOf('?');
    const rawPath = qi === -1 ? target : target.slice(0, qi);
    const path = normalisePath(rawPath);
    if (path === undefined) return 'BAD_REQUEST';
    const query = qi === -1 ? '' : target.slice(qi + 1);
    const route = vh.match(path, req.method ?? 'GET', headers, query);
    if (route === undefined) return 'NO_ROUTE';
    this.route = route;
    this.path = path;
    this.upPath = path;
    this.query = query;
    this.rawHost = authority;
    this.host = host;
    return undefined;
  }

  #forwardContext(): ForwardContext {
    return {
      host: this.rawHost,
      forwardedHost: this.rawHost,
      proto: this.scheme,
      clientIp: clientIpOf(this.req.socket?.remoteAddress),
    };
  }

  /** Upstream headers as an object (filters change this one; built on first use). */
  get upHeaders(): OutHeaders {
    let up = this.#up;
    if (up === undefined) {
      up = this.#up = buildUpstreamHeaders(this.req.headers, this.#forwardContext());
      const x = this.#extra;
      if (x !== undefined) {
        for (let i = 0; i < x.length; i += 2) up[x[i]!] = x[i + 1]!;
        this.#extra = undefined;
      }
    }
    return up;
  }

  /**
   * PluginRequest: add a header the client did not send (the consumer of key-auth) without
   * building the header object; the fast header-line path appends it.
   */
  addUpstreamHeader(name: string, value: string): void {
    if (this.#up !== undefined) this.#up[name] = value;
    else if (this.#extra === undefined) this.#extra = [name, value];
    else this.#extra.push(name, value);
  }

  /** The response fields plugins added, as name/value pairs. */
  pluginResPairs(): readonly string[] | undefined {
    return this.pluginResLines !== undefined ? fieldLinePairs(this.pluginResLines) : this.pluginResHeaders;
  }

  /** PluginRequest: response field lines (kept as they are when they are the only ones). */
  addResponseLines(lines: string): void {
    if (this.pluginResLines === undefined && this.pluginResHeaders === undefined) {
      this.pluginResLines = lines;
      return;
    }
    const p = fieldLinePairs(lines);
    for (let i = 0; i < p.length; i += 2) this.addResponseHeader(p[i]!, p[i + 1]!);
  }

  /** PluginRequest: a response header; the last value given for a name wins. */
  addResponseHeader(name: string, value: string): void {
    const lines = this.pluginResLines;
    if (lines !== undefined) {
      this.pluginResLines = undefined;
      this.pluginResHeaders = fieldLinePairs(lines);
    }
    const l = this.pluginResHeaders;
    if (l === undefined) {
      this.pluginResHeaders = [name, value];
      return;
    }
    for (let i = 0; i < l.length; i += 2) {
      if (l[i] === name) {
        l[i + 1] = value;
        return;
      }
    }
    l.push(name, value);
  }

  /** Upstream HTTP/1.1 header lines, framing headers excluded. */
  headerLines(): string {
    const up = this.#up;
    if (up !== undefined) return headerLinesOf(up);
    const lines = upstreamHeaderLines(this.req.headers, this.rawHost, this.rawHost, this.scheme, clientIpOf(this.req.socket?.remoteAddress));
    const x = this.#extra;
    if (x === undefined) return lines;
    let extra = '';
    for (let i = 0; i < x.length; i += 2) extra += `${x[i]}: ${x[i + 1]}\r\n`;
    return lines + extra;
  }

  headerObject(): OutHeaders {
    return this.upHeaders;
  }

  /** Run request-phase filters in order; a stop when a filter answers the request itself. */
  runFilters(steps: readonly Step[], from = 0): FilterStop | undefined {
    for (let i = from; i < steps.length; i++) {
      const s = steps[i]!;
      switch (s.type) {
        case 'RequestHeaderModifier':
          applyHeaderModifier(this.upHeaders, s.modifier);
          break;
        case 'ResponseHeaderModifier':
          (this.resMods ??= []).push(s.modifier);
          break;
        case 'RequestRedirect': {
          const port = this.req.socket?.localPort ?? (this.b.secure ? 443 : 80);
          const location = buildLocation(s.redirect, this.scheme, this.host, port, this.path, this.query);
          return { kind: 'redirect', status: s.redirect.statusCode, location };
        }
        case 'URLRewrite':
          if (s.rewrite.hostname !== undefined) this.upHeaders.host = s.rewrite.hostname;
          if (s.rewrite.path !== undefined) this.upPath = applyPathModifier(this.upPath, s.rewrite.path);
          break;
        case 'RequestMirror':
          if (s.mirror.fraction >= 1 || Math.random() < s.mirror.fraction) (this.mirrors ??= []).push(s.mirror);
          break;
        case 'CORS':
          if (isPreflight(this.req.method, this.req.headers)) {
            return { kind: 'preflight', headers: preflightHeaders(s.cors, this.req.headers) };
          }
          this.cors = s.cors;
          break;
        case 'Plugin': {
          const hooks = s.plugin.hooks;
          if (hooks === undefined) return { kind: 'plugin', id: s.plugin.id };
          const r = hooks.onRequest(this);
          if (r === undefined) break;
          // Local decisions (rate limits, key-auth) are synchronous: no Promise on that path.
          if (typeof (r as Promise<HookResult>).then === 'function') return { kind: 'pluginWait', id: s.plugin.id, promise: r as Promise<HookResult>, next: i + 1 };
          return { kind: 'plugin', id: s.plugin.id, answer: r as PluginAnswer };
        }
      }
    }
    return undefined;
  }

  /** Path and query for the upstream request line. */
  get upTarget(): string {
    return this.query === '' ? this.upPath : `${this.upPath}?${this.query}`;
  }
}
