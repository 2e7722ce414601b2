// Calibration target "floor": the least a Node.js HTTP/1.1 proxy can do: node:http server,
// one undici Pool with keep-alive, no routing, no filters, hop-by-hop headers dropped. Its CPU
// per request is what any proxy built on node:http + undici pays before doing anything, so it
// shows how much of FluxGate's cost is its own and how much is the platform's.
//
// Usage: node bench/node-floor.ts PORT UPSTREAM_ORIGIN
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';

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

const server = createServer((req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.request({ path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers: forwardable(req.headers), body: hasBody ? req : null })
    .then(({ statusCode, headers, body }) => {
      res.writeHead(statusCode, forwardable(headers));
      body.pipe(res);
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`node-floor ready on ${port} -> ${upstream}\n`));

const stop = (): void => {
  server.closeAllConnections();
  server.close(() => { void pool.close().then(() => process.exit(0)); });
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
