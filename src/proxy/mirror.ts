/**
 * RequestMirror: a fire-and-forget copy of the request to another backend. The mirror never
 * delays or fails the main request: its response is discarded, its errors only logged, and its
 * body copy is abandoned rather than allowed to apply backpressure to the client.
 */
import { PassThrough, type Readable } from 'node:stream';
import { headerLinesOf, type OutHeaders } from './headers.ts';
import type { ProxyLogger } from './logger.ts';
import type { CompiledBackend } from './router.ts';
import type { UpstreamControl, UpstreamHandler, UpstreamRequest } from './upstream.ts';

class MirrorRequest implements UpstreamRequest, UpstreamHandler {
  readonly method: string;
  readonly target: string;
  readonly headers: OutHeaders;
  readonly body: Readable | null;
  readonly bodyLength: number;
  readonly logger: ProxyLogger;
  readonly backendId: string;
  constructor(method: string, target: string, headers: OutHeaders, body: Readable | null, bodyLength: number, logger: ProxyLogger, backendId: string) {
    this.method = method;
    this.target = target;
    this.headers = headers;
    this.body = body;
    this.bodyLength = bodyLength;
    this.logger = logger;
    this.backendId = backendId;
  }
  headerLines(): string {
    return headerLinesOf(this.headers);
  }
  headerObject(): OutHeaders {
    return this.headers;
  }
  onRequestStart(): void {}
  onResponseStart(): void {}
  onResponseData(): void {}
  onResponseEnd(): void {}
  onResponseError(_c: UpstreamControl, err: Error): void {
    this.logger.debug({ backend: this.backendId, err: err.message }, 'mirror request failed');
  }
}

/**
 * Send one mirror copy. `body` is a tee of the client body (of `bodyLength` bytes, -1 when
 * unknown), or null for a body-less request.
 */
export function sendMirror(
  backend: CompiledBackend | undefined,
  method: string,
  target: string,
  headers: OutHeaders,
  body: Readable | null,
  bodyLength: number,
  logger: ProxyLogger,
): void {
  const ep = backend?.endpoints.pick();
  if (backend === undefined || ep === undefined) {
    body?.destroy();
    return;
  }
  try {
    const m = new MirrorRequest(method, target, headers, body, bodyLength, logger, backend.id);
    ep.pool.dispatch(m, m);
  } catch (err) {
    body?.destroy();
    logger.debug({ backend: backend.id, err: (err as Error).message }, 'mirror dispatch failed');
  }
}

/**
 * Split a client body for the main request and mirrors. The main copy is piped with
 * backpressure; mirror copies are fed without it and dropped once they buffer more than `cap`.
 */
export function teeBody(source: Readable, mirrors: number, cap: number): { main: Readable; copies: Readable[] } {
  const main = new PassThrough();
  const copies: PassThrough[] = [];
  for (let i = 0; i < mirrors; i++) copies.push(new PassThrough());
  source.on('data', (chunk: Buffer) => {
    for (const c of copies) {
      if (c.destroyed) continue;
      if (c.writableLength > cap) c.destroy();
      else c.write(chunk);
    }
  });
  source.on('end', () => {
    for (const c of copies) if (!c.destroyed) c.end();
  });
  source.on('error', (err) => {
    for (const c of copies) c.destroy();
    main.destroy(err);
  });
  source.pipe(main);
  return { main, copies };
}
