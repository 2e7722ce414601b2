/**
 * Gateway API HTTPRouteRetry beyond status codes: an attempt that hits the BackendRequest
 * timeout is cancelled and retried (HTTPRouteRetryBackendTimeout), and so is one that fails on
 * the connection: refused, reset, or closed before the answer (HTTPRouteRetryConnectionError).
 * Without a retry stanza neither is retried; the Request timeout bounds every attempt.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Proxy } from '../../src/proxy/index.ts';
import { backend, listener, match, ref, route, send, startBackend, startProxy, table, vhost, type TestBackend } from './helpers.ts';

let flaky: TestBackend;
let proxy: Proxy;
let port: number;
let deadPort: number;
/** Per path: how many requests the backend saw, and what it does with the n-th (1-based). */
const count = new Map<string, number>();
const plan = new Map<string, (n: number) => 'hang' | 'reset' | 'ok'>();

before(async () => {
  flaky = await startBackend('flaky', (req, _body, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const n = (count.get(path) ?? 0) + 1;
    count.set(path, n);
    const what = plan.get(path)?.(n) ?? 'ok';
    if (what === 'hang') {
      const t = setTimeout(() => res.end('too late'), 3000);
      res.on('close', () => clearTimeout(t));
      return true;
    }
    if (what === 'reset') {
      // Connection dropped before any byte of an answer (a crashed or restarting backend).
      req.socket.resetAndDestroy();
      return true;
    }
    return false;
  });
  const tmp = createNetServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  deadPort = (tmp.address() as AddressInfo).port;
  await new Promise((r) => tmp.close(r));

  const retry = (extra: { backoffMs?: number; attempts?: number } = {}) => ({ retry: { attempts: extra.attempts ?? 2, codes: [], ...(extra.backoffMs === undefined ? {} : { backoffMs: extra.backoffMs }) } });
  ({ proxy, port } = await startProxy(table(
    [listener([vhost('*', [
      route('timeout-retry', match('/timeout-retry'), [ref('backend/flaky')], [], { timeouts: { backendRequestMs: 200 }, ...retry() }),
      route('timeout-backoff', match('/timeout-backoff'), [ref('backend/flaky')], [], { timeouts: { backendRequestMs: 200 }, ...retry({ backoffMs: 300 }) }),
      route('timeout-no-retry', match('/timeout-no-retry'), [ref('backend/flaky')], [], { timeouts: { backendRequestMs: 200 } }),
      route('timeout-bounded', match('/timeout-bounded'), [ref('backend/flaky')], [], { timeouts: { requestMs: 500, backendRequestMs: 200 }, ...retry({ attempts: 10 }) }),
      route('reset-retry', match('/reset-retry'), [ref('backend/flaky')], [], retry()),
      route('reset-exhausted', match('/reset-exhausted'), [ref('backend/flaky')], [], retry()),
      route('reset-no-retry', match('/reset-no-retry'), [ref('backend/flaky')]),
      route('refused-retry', match('/refused-retry'), [ref('backend/dead-then-flaky')], [], retry()),
    ])])],
    [backend('backend/flaky', [flaky.port]), backend('backend/dead-then-flaky', [deadPort, flaky.port])],
  )));
});
after(async () => {
  await proxy.close();
  await flaky.close();
});

const code = (r: { json(): Record<string, unknown> }) => (r.json().error as { code: string }).code;

async function timed(path: string, opts: Parameters<typeof send>[2] = {}): Promise<{ r: Awaited<ReturnType<typeof send>>; ms: number }> {
  const t0 = performance.now();
  const r = await send(port, path, opts);
  return { r, ms: performance.now() - t0 };
}

test('backend timeout: the attempt is cancelled and retried; the second answers', async () => {
  plan.set('/timeout-retry', (n) => (n === 1 ? 'hang' : 'ok'));
  const { r, ms } = await timed('/timeout-retry');
  assert.equal(r.status, 200);
  assert.equal(count.get('/timeout-retry'), 2);
  assert.ok(ms >= 190 && ms < 1500, `answered after ${ms} ms`);
});

test('backend timeout: the retry waits at least the backoff', async () => {
  plan.set('/timeout-backoff', (n) => (n === 1 ? 'hang' : 'ok'));
  const { r, ms } = await timed('/timeout-backoff');
  assert.equal(r.status, 200);
  assert.ok(ms >= 490, `retried before timeout + backoff: ${ms} ms`);
});

test('backend timeout without a retry stanza: 504 after one attempt', async () => {
  plan.set('/timeout-no-retry', () => 'hang');
  const { r } = await timed('/timeout-no-retry');
  assert.equal(r.status, 504);
  assert.equal(code(r), 'TIMEOUT');
  assert.equal(count.get('/timeout-no-retry'), 1);
});

test('backend timeout: the request timeout bounds all attempts', async () => {
  plan.set('/timeout-bounded', () => 'hang');
  const { r, ms } = await timed('/timeout-bounded');
  assert.equal(r.status, 504);
  assert.ok(ms >= 450 && ms < 1500, `answered after ${ms} ms`);
  assert.ok((count.get('/timeout-bounded') ?? 0) <= 3, `attempts: ${count.get('/timeout-bounded')}`);
});

test('connection reset before the answer: retried', async () => {
  plan.set('/reset-retry', (n) => (n === 1 ? 'reset' : 'ok'));
  const r = await send(port, '/reset-retry');
  assert.equal(r.status, 200);
  assert.equal(count.get('/reset-retry'), 2);
});

test('connection reset on every attempt: 502 after 1 + attempts tries', async () => {
  plan.set('/reset-exhausted', () => 'reset');
  const r = await send(port, '/reset-exhausted');
  assert.equal(r.status, 502);
  assert.equal(code(r), 'UPSTREAM_RESET');
  // 1 + 2 retries; the upstream client may replay one more on a fresh connection when the
  // reset came on a reused keep-alive connection (indistinguishable from a stale one).
  const n = count.get('/reset-exhausted') ?? 0;
  assert.ok(n >= 3 && n <= 4, `attempts: ${n}`);
});

test('connection reset without a retry stanza, or with a request body: not retried', async () => {
  plan.set('/reset-no-retry', () => 'reset');
  const r = await send(port, '/reset-no-retry');
  assert.equal(r.status, 502);
  // At most the upstream client's own replay of a request that died on a reused connection.
  assert.ok((count.get('/reset-no-retry') ?? 0) <= 2, `attempts: ${count.get('/reset-no-retry')}`);
  plan.set('/reset-retry', () => 'reset');
  count.delete('/reset-retry');
  const p = await send(port, '/reset-retry', { method: 'POST', body: 'streamed once, cannot be replayed' });
  assert.equal(p.status, 502);
  assert.equal(count.get('/reset-retry'), 1);
});

test('connection refused by one endpoint: retried on the next', async () => {
  // Round robin: whichever endpoint comes first, two requests both end on the live one.
  for (let i = 0; i < 2; i++) {
    const r = await send(port, '/refused-retry');
    assert.equal(r.status, 200);
  }
});
