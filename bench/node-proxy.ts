// The "plain Node.js proxy" baseline of the benchmark: fastify + @fastify/http-proxy (undici
// upstream with keep-alive), configured for the same routes as FluxGate and nginx.
//
// Usage: node bench/node-proxy.ts ROUTES_JSON
//   ROUTES_JSON: { "upstream": "http://127.0.0.1:PORT", "h1Port": N, "h2cPort": N|0,
//                  "prefixes": ["/r/00000", ...], "filterPrefix": "/filter" }
// Each prefix is one plugin registration (one route in fastify's radix router), which is how
// a user of this library maps N path prefixes to upstreams. The filter prefix adds a request
// header and sets a response header, like the HTTPRoute filters of the benchmark.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import httpProxy from '@fastify/http-proxy';

interface Spec {
  readonly upstream: string;
  readonly h1Port: number;
  readonly h2cPort: number;
  readonly prefixes: readonly string[];
  readonly filterPrefix: string;
}

const specPath = process.argv[2];
if (specPath === undefined) {
  process.stderr.write('usage: node bench/node-proxy.ts SPEC.json\n');
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specPath, 'utf8')) as Spec;

async function build(http2: boolean): Promise<FastifyInstance> {
  // The http2 flag without TLS makes fastify serve h2c with prior knowledge.
  const app = (http2 ? Fastify({ http2: true, logger: false }) : Fastify({ logger: false })) as unknown as FastifyInstance;
  for (const prefix of spec.prefixes) {
    await app.register(httpProxy, { upstream: spec.upstream, prefix, rewritePrefix: prefix, http2: false });
  }
  await app.register(httpProxy, {
    upstream: spec.upstream,
    prefix: spec.filterPrefix,
    rewritePrefix: spec.filterPrefix,
    http2: false,
    replyOptions: {
      rewriteRequestHeaders: (_req, headers) => ({ ...headers, 'x-bench-request': 'added' }),
      rewriteHeaders: (headers) => ({ ...headers, 'x-bench-response': 'set' }),
    },
  });
  return app;
}

const apps: FastifyInstance[] = [];
const h1 = await build(false);
await h1.listen({ host: '127.0.0.1', port: spec.h1Port });
apps.push(h1);
if (spec.h2cPort > 0) {
  const h2 = await build(true);
  await h2.listen({ host: '127.0.0.1', port: spec.h2cPort });
  apps.push(h2);
}
process.stdout.write(`node-proxy ready: ${spec.prefixes.length} prefixes, h1 ${spec.h1Port}, h2c ${spec.h2cPort}\n`);

const stop = (): void => {
  void Promise.all(apps.map((a) => a.close())).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
