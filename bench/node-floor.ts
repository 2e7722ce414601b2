// Calibration target "floor" (shown as "minimal Node proxy"): a straightforward node:http +
// undici proxy with nothing else: one keep-alive Pool, no routing, no filters, hop-by-hop
// headers dropped. It shows what the platform costs per proxied request before any work of
// the proxy's own. Not a hard floor: raw header arrays instead of header objects, for one,
// make a proxy cheaper still (FluxGate does that).
//
// Usage: node bench/node-floor.ts PORT UPSTREAM_ORIGIN
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';

const port = Number(process.argv[2]);
const upstream = process.argv[3];
if (!Number.isInteger(port) || upstream === undefined) {
  process.stderr.write('usage: node bench/node-floor.ts PORT UPSTREAM_ORIGIN\n');
  process.exit(2);
}

const pool = new Pool(upstream, { connections: 256 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

function forwardable(h: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in h) {
    const v = h[k];
    if (v !== undefined && !HOP.has(k)) out[k] = v;
  }
  return out;
}

// undici's dispatch API with a plain handler: no promise, no Readable per response (the
// cheapest way undici offers), with backpressure from the client socket.
class Forward implements Dispatcher.DispatchHandler {
  readonly res: ServerResponse;
  constructor(res: ServerResponse) { this.res = res; }
  onRequestStart(): void {}
  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.res.writeHead(statusCode, forwardable(headers));
    this.res.on('drain', () => controller.resume());
  }
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) controller.pause();
  }
  onResponseEnd(): void { this.res.end(); }
  onResponseError(_controller: Dispatcher.DispatchController, _err: Error): void {
    if (!this.res.headersSent) this.res.writeHead(502);
    this.res.end();
  }
}

const server = createServer((req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.dispatch({ path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers: forwardable(req.headers), body: hasBody ? req : null }, new Forward(res));
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`node-floor ready on ${port} -> ${upstream}\n`));

const stop = (): void => {
  server.closeAllConnections();
  server.close(() => { void pool.close().then(() => process.exit(0)); });
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
