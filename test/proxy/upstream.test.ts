/**
 * Balancing, backend failures, timeouts, retries, forwarding headers, keep-alive reuse and
 * HTTP/2 on both sides.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import { Agent } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Proxy } from '../../src/proxy/index.ts';
import { backend, listener, match, ref, route, send, startBackend, startH2cBackend, startProxy, table, vhost, type TestBackend } from './helpers.ts';

let a: TestBackend;
let b: TestBackend;
let slow: TestBackend;
let flaky: TestBackend;
let h2: TestBackend;
let proxy: Proxy;
let port: number;
let deadPort: number;
let flakyCount = 0;

before(async () => {
  a = await startBackend('a');
  b = await startBackend('b');
  slow = await startBackend('slow', (_req, _body, res) => {
    const t = setTimeout(() => res.end('slow'), 1500);
    res.on('close', () => clearTimeout(t));
    return true;
  });
  flaky = await startBackend('flaky', (_req, _body, res) => {
    flakyCount++;
    if (flakyCount % 3 !== 0) {
      res.writeHead(503);
      res.end('try again');
      return true;
    }
    return false;
  });
  h2 = await startH2cBackend('h2');
  // A port with nothing listening: bind, note, close.
  const tmp = createNetServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  deadPort = (tmp.address() as AddressInfo).port;
  await new Promise((r) => tmp.close(r));

  ({ proxy, port } = await startProxy(
    table(
      [
        listener([
          vhost('*', [
            route('split', match('/split'), [ref('backend/a', 80), ref('backend/b', 20)]),
            route('invalid-share', match('/invalid-share'), [ref('backend/a', 1), { kind: 'invalid', weight: 1, status: 500, code: 'BACKEND_NOT_FOUND' }]),
            route('no-backends', match('/no-backends'), []),
            route('no-endpoints', match('/no-endpoints'), [ref('backend/empty')]),
            route('unknown-backend', match('/unknown-backend'), [ref('backend/missing')]),
            route('rr', match('/rr'), [ref('backend/ab')]),
            route('dead', match('/dead'), [ref('backend/dead')]),
            route('req-timeout', match('/req-timeout'), [ref('backend/slow')], [], { timeouts: { requestMs: 300 } }),
            route('be-timeout', match('/be-timeout'), [ref('backend/slow')], [], { timeouts: { backendRequestMs: 300 } }),
            route('retry', match('/retry'), [ref('backend/flaky')], [], { retry: { attempts: 2, codes: [503] } }),
            route('no-retry', match('/no-retry'), [ref('backend/flaky')]),
            route('h2c', match('/h2c'), [ref('backend/h2')]),
            route('default', match('/'), [ref('backend/a')]),
          ]),
        ]),
      ],
      [
        backend('backend/a', [a.port]),
        backend('backend/b', [b.port]),
        backend('backend/ab', [a.port, b.port]),
        backend('backend/empty', []),
        backend('backend/dead', [deadPort]),
        backend('backend/slow', [slow.port]),
        backend('backend/flaky', [flaky.port]),
        backend('backend/h2', [h2.port], 'h2c'),
      ],
    ),
  ));
});
after(async () => {
  await proxy.close();
  await Promise.all([a, b, slow, flaky, h2].map((x) => x.close()));
});

const code = (r: { json(): Record<string, unknown> }) => (r.json().error as { code: string }).code;

test('weights: 1000 requests split 80/20 within ±5%', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const counts: Record<string, number> = { a: 0, b: 0 };
  for (let i = 0; i < 10; i++) {
    const batch = await Promise.all(Array.from({ length: 100 }, () => send(port, '/split', { agent })));
    for (const r of batch) counts[r.json().backend as string]!++;
  }
  agent.destroy();
  assert.ok(Math.abs(counts.a! - 800) <= 50, JSON.stringify(counts));
  assert.ok(Math.abs(counts.b! - 200) <= 50, JSON.stringify(counts));
});

test('an invalid backendRef answers its status for its share of the weight', async () => {
  const statuses = await Promise.all(Array.from({ length: 100 }, () => send(port, '/invalid-share')));
  const fails = statuses.filter((r) => r.status === 500);
  assert.ok(Math.abs(fails.length - 50) <= 10, `failures: ${fails.length}`);
  assert.equal(code(fails[0]!), 'BACKEND_NOT_FOUND');
  assert.match(String(fails[0]!.json().error && (fails[0]!.json().error as { requestId: string }).requestId), /.+-.+/);
});

test('no backendRefs: 500; no endpoints: 503; backend missing from the table: 500', async () => {
  const n = await send(port, '/no-backends');
  assert.equal(n.status, 500);
  assert.equal(code(n), 'NO_BACKEND');
  const e = await send(port, '/no-endpoints');
  assert.equal(e.status, 503);
  assert.equal(code(e), 'NO_ENDPOINTS');
  const u = await send(port, '/unknown-backend');
  assert.equal(u.status, 500);
});

test('round-robin across a backend\'s endpoints', async () => {
  const seen = [];
  for (let i = 0; i < 4; i++) seen.push((await send(port, '/rr')).json().backend);
  assert.deepEqual(seen.sort(), ['a', 'a', 'b', 'b']);
});

test('connection refused: 502 UPSTREAM_CONNECT', async () => {
  const r = await send(port, '/dead');
  assert.equal(r.status, 502);
  assert.equal(code(r), 'UPSTREAM_CONNECT');
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
});

// A client that parses a body only when Content-Type is exactly application/json (the Gateway
// API conformance round tripper does) must not choke on the body-less answer to HEAD.
test('errors FluxGate makes: JSON with a charset, and no body for HEAD', async () => {
  const head = await send(port, '/dead', { method: 'HEAD' });
  assert.equal(head.status, 502);
  assert.equal(head.body, '');
  assert.equal(head.headers['content-type'], 'application/json; charset=utf-8');
});

test('request timeout and backend request timeout: 504 TIMEOUT', async () => {
  for (const path of ['/req-timeout', '/be-timeout']) {
    const t0 = performance.now();
    const r = await send(port, path);
    const ms = performance.now() - t0;
    assert.equal(r.status, 504, path);
    assert.equal(code(r), 'TIMEOUT');
    assert.ok(ms >= 250 && ms < 1200, `${path} answered after ${ms} ms`);
  }
});

test('retries on listed codes for body-less requests; not without a policy', async () => {
  flakyCount = 0;
  const r = await send(port, '/retry');
  assert.equal(r.status, 200);
  assert.equal(flakyCount, 3);
  flakyCount = 0;
  const n = await send(port, '/no-retry');
  assert.equal(n.status, 503);
  assert.equal(n.body, 'try again');
  flakyCount = 0;
  const p = await send(port, '/retry', { method: 'POST', body: 'not replayed' });
  assert.equal(p.status, 503, 'a request with a body is not retried');
});

test('X-Forwarded-For appends, X-Forwarded-Proto/Host set, Host preserved, hop-by-hop dropped', async () => {
  const r = await send(port, '/fwd', {
    host: 'Public.Example:8080',
    headers: {
      'x-forwarded-for': '203.0.113.9',
      connection: 'keep-alive, x-secret',
      'x-secret': 'hop',
      'keep-alive': 'timeout=5',
      'proxy-authorization': 'Basic x',
      te: 'gzip',
      'x-kept': 'yes',
    },
  });
  const h = r.json().headers as Record<string, string>;
  assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-host'], 'Public.Example:8080');
  assert.equal(h.host, 'Public.Example:8080');
  assert.equal(h['x-secret'], undefined);
  assert.equal(h['keep-alive'], undefined);
  assert.equal(h['proxy-authorization'], undefined);
  assert.equal(h.te, undefined);
  assert.equal(h['x-kept'], 'yes');
});

test('keep-alive: upstream connections are reused across requests', async () => {
  const conns = new Set<string>();
  const before = a.seen.length;
  a.server.on('connection', (s) => conns.add(`${s.remotePort}`));
  for (let i = 0; i < 20; i++) await send(port, '/ka');
  assert.equal(a.seen.length - before, 20);
  assert.ok(conns.size <= 1, `new upstream connections: ${conns.size}`);
});

test('streams large bodies both ways', async () => {
  const big = 'x'.repeat(3 * 1024 * 1024);
  const r = await send(port, '/big', { method: 'PUT', body: big });
  assert.equal((r.json().body as string).length, big.length);
});

test('proxy → h2c backend (appProtocol kubernetes.io/h2c)', async () => {
  const r = await send(port, '/h2c/x');
  assert.equal(r.status, 200);
  assert.equal(r.json().httpVersion, '2.0');
  assert.equal(r.json().url, '/h2c/x');
  assert.equal((r.json().headers as Record<string, string>)[':authority'], 'example.com');
});

function h2get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string; trailers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':path': path, ':authority': 'example.com', ...headers });
    let status = 0;
    let hdrs: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      hdrs = h;
    });
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      session.close();
      resolve({ status, headers: hdrs, body: Buffer.concat(chunks).toString(), trailers });
    });
    req.on('error', reject);
    req.end();
  });
}

test('client → proxy over h2c prior knowledge on the plain HTTP port', async () => {
  const r = await h2get('/h2-client');
  assert.equal(r.status, 200);
  const j = JSON.parse(r.body);
  assert.equal(j.backend, 'a');
  assert.equal(j.headers.host, 'example.com');
  const both = await h2get('/h2c/both');
  assert.equal(JSON.parse(both.body).httpVersion, '2.0');
});

test('gRPC requests get grpc-status instead of a JSON error page', async () => {
  const r = await h2get('/no-endpoints', { 'content-type': 'application/grpc' });
  assert.equal(r.status, 200);
  const status = r.headers['grpc-status'] ?? r.trailers['grpc-status'];
  assert.equal(status, '14');
});
