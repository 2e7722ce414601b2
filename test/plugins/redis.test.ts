// Redis-shared rate limits: a real redis-server on a random loopback port; two plugin
// runtimes (as two FluxGate replicas would hold) share one budget exactly; Redis down falls
// back to local limits or denies, as configured.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { validateRateLimit } from '../../src/plugins/rate-limit/validate.ts';
import type { PluginHooks } from '../../src/plugins/index.ts';
import { makeReq, runtime } from './helpers.ts';
import { freePort, startRedis } from './redis-server.ts';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const skip = hasRedis ? false : 'redis-server is not installed (bash scripts/install-system-deps.sh installs it)';

let server: ChildProcess | undefined;
let port = 0;

before(async () => {
  if (!hasRedis) return;
  const r = await startRedis();
  server = r.proc;
  port = r.port;
});
const runtimes: ReturnType<typeof runtime>[] = [];
after(() => {
  for (const rt of runtimes) rt.close();
  server?.kill();
});

function replica(spec: Record<string, unknown>, id = 'policy/default/TrafficPolicy/shared/rateLimit'): PluginHooks {
  const v = validateRateLimit(spec, { field: 'spec.rateLimit', namespace: 'default', consumers: [], secret: () => undefined });
  assert.ok(v.ok, JSON.stringify(v));
  const rt = runtime();
  runtimes.push(rt);
  rt.beginCompile();
  const h = rt.compile({ kind: 'rate-limit', id, config: v.config });
  rt.endCompile();
  return h;
}

/** Waits until just after a second boundary, so a burst fits in one window. */
async function startOfSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
}

test('two replicas share one budget exactly (atomic Lua check-and-increment)', { skip }, async () => {
  const spec = { second: 5, minute: 1000, limitBy: 'consumer', policy: 'redis', redis: { host: '127.0.0.1', port } };
  const a = replica(spec), b = replica(spec);
  // Warm the connections so the burst is not split by connection setup.
  await new Promise((r) => setTimeout(r, 200));
  await startOfSecond();
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).onRequest(makeReq({ consumer: 'alice' }))));
  const allowed = results.filter((r) => r === undefined).length;
  assert.equal(allowed, 5, 'exactly the limit passes across both replicas');
  const limited = results.find((r) => r !== undefined);
  assert.equal(limited?.status, 429);
  assert.ok(Number(limited?.headers?.['retry-after']) >= 1);
  assert.equal(limited?.headers?.['x-ratelimit-remaining-second'], '0');
  assert.equal(limited?.headers?.['x-ratelimit-remaining-minute'], '995');
  await startOfSecond();
  assert.equal(await a.onRequest(makeReq({ consumer: 'alice' })), undefined, 'the next second has a new budget');
  assert.equal(await b.onRequest(makeReq({ consumer: 'bob' })), undefined, 'other consumers have their own');
});

test('Redis down: onError Local falls back to exact local limits; Deny answers 503', { skip }, async () => {
  const local = replica({ second: 2, policy: 'redis', redis: { host: '127.0.0.1', port: await freePort(), timeoutMs: 50, onError: 'Local' } }, 'p-local');
  const deny = replica({ second: 2, policy: 'redis', redis: { host: '127.0.0.1', port: await freePort(), timeoutMs: 50, onError: 'Deny' } }, 'p-deny');
  await startOfSecond();
  const r = [await local.onRequest(makeReq()), await local.onRequest(makeReq()), await local.onRequest(makeReq())];
  assert.deepEqual(r.map((x) => x?.status), [undefined, undefined, 429]);
  const d = await deny.onRequest(makeReq());
  assert.equal(d?.status, 503);
  assert.equal(d?.code, 'RATE_LIMIT_UNAVAILABLE');
});
