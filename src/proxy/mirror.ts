/**
 * RequestMirror: a fire-and-forget copy of the request to another backend. The mirror never
 * delays or fails the main request: its response is discarded, its errors only logged, and its
 * body copy is abandoned rather than allowed to apply backpressure to the client.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { OutHeaders } from './headers.ts';
import type { ProxyLogger } from './logger.ts';
import type { CompiledBackend } from './router.ts';

class MirrorHandler implements Dispatcher.DispatchHandler {
  readonly logger: ProxyLogger;
  readonly backendId: string;
  constructor(logger: ProxyLogger, backendId: string) {
    this.logger = logger;
    this.backendId = backendId;
  }
  onRequestStart(): void {}
  onResponseStart(): void {}
  onResponseData(): void {}
  onResponseEnd(): void {}
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.logger.debug({ backend: this.backendId, err: err.message }, 'mirror request failed');
  }
}

/** Send one mirror copy. `body` is a tee of the client body, or null for a body-less request. */
export function sendMirror(
  backend: CompiledBackend | undefined,
  method: string,
  target: string,
  headers: OutHeaders,
  body: Readable | null,
  logger: ProxyLogger,
): void {
  const ep = backend?.endpoints.pick();
  if (backend === undefined || ep === undefined) {
    body?.destroy();
    return;
  }
  try {
    ep.pool.dispatch({ method, path: target, headers, body }, new MirrorHandler(logger, backend.id));
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
