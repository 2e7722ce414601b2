// End to end through `fluxgate serve`: examples/rate-limit-tiers.yaml with real time (each
// burst inside one second window), key-auth in front, the consumer passed upstream; and
// Redis-shared limits across two FluxGate processes against a real redis-server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startServe, type Serving } from '../../src/commands/serve.ts';
import { freePort, waitFor } from '../helpers/net.ts';
import { startBackend, type TestBackend } from '../proxy/helpers.ts';
import { startRedis } from './redis-server.ts';

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'rate-limit-tiers.yaml');
const MAIN = join(import.meta.dirname, '..', '..', 'src', 'main.ts');
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function startOfSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 30));
}

/** How many of `n` back-to-back requests pass, all inside one second window. */
async function allowed(port: number, path: string, key: string, n: number): Promise<number> {
  await startOfSecond();
  let ok = 0;
  for (let i = 0; i < n; i++) if ((await get(port, path, { apikey: key })).status === 200) ok++;
  return ok;
}

let backend: TestBackend;
let serving: Serving;
let port = 0;

before(async () => {
  backend = await startBackend('httpbin');
  port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fluxgate-plugins-'));
  const yaml = readFileSync(EXAMPLE, 'utf8').replace('port: 9101', `port: ${backend.port}`).replace('port: 8000', `port: ${port}`);
  writeFileSync(join(dir, 'tiers.yaml'), yaml);
  serving = await startServe({ config: join(dir, 'tiers.yaml'), bindAddress: '127.0.0.1', adminAddress: '', watch: false, logger: pino({ level: 'silent' }) });
  const probe = await get(port, '/api/get/x');
  if (probe.status === 500 && probe.body.includes('PLUGIN_UNAVAILABLE')) noHooks = 'the proxy does not run plugin hooks yet (ProxyOptions.plugins)';
});

let noHooks: string | false = false;

after(async () => {
  agent.destroy();
  await serving?.close();
  await backend?.close();
});

test('example: key-auth fails closed, consumer goes upstream, headers', async (t) => {
  if (noHooks) return t.skip(noHooks);
  const none = await get(port, '/api/get/x');
  assert.equal(none.status, 401);
  assert.equal(JSON.parse(none.body).error.code, 'AUTH_MISSING_CREDENTIALS');
  assert.equal((await get(port, '/api/get/x', { apikey: 'wrong' })).status, 401);
  await startOfSecond();
  const ok = await get(port, '/api/get/x', { apikey: 'slow-key', 'x-consumer-username': 'fast_user' });
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse(ok.body).headers['x-consumer-username'], 'slow_user', 'the upstream sees the authenticated consumer, not the client header');
  assert.equal(ok.headers['x-ratelimit-limit-second'], '2');
  assert.equal(ok.headers['x-ratelimit-remaining-second'], '1');
  assert.equal(ok.headers['ratelimit-limit'], '2');
  assert.equal(ok.headers['ratelimit-remaining'], '1');
  assert.equal(ok.headers['ratelimit-reset'], '1');
  await get(port, '/api/get/x', { apikey: 'slow-key' });
  const limited = await get(port, '/api/get/x', { apikey: 'slow-key' });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers['retry-after'], '1');
  assert.equal(JSON.parse(limited.body).error.code, 'RATE_LIMITED');
});

test('example: the tiers, exact to the request within a second', async (t) => {
  if (noHooks) return t.skip(noHooks);
  const results: Record<string, number[]> = {};
  for (const key of ['slow-key', 'fast-key']) {
    results[key] = [];
    for (const path of ['/api/', '/api/get/', '/api/post/', '/api/put/', '/api/delete/']) results[key]!.push(await allowed(port, path, key, 12));
  }
  assert.deepEqual(results['slow-key'], [4, 2, 1, 1, 1]);
  assert.deepEqual(results['fast-key'], [8, 4, 2, 2, 2]);
  // Everyone else: 9 per second over the whole route (the service), whatever the path.
  await startOfSecond();
  let ok = 0;
  for (let i = 0; i < 14; i++) if ((await get(port, i % 2 === 0 ? '/api/' : '/api/get/', { apikey: 'regular-key' })).status === 200) ok++;
  assert.equal(ok, 9);
});

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

test('redis: two FluxGate processes share one budget', { skip: hasRedis ? false : 'redis-server is not installed (bash scripts/install-system-deps.sh installs it)' }, async (t) => {
  if (noHooks) return t.skip(noHooks);
  const redis = await startRedis();
  const procs: ChildProcess[] = [];
  try {
    const ports = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'fluxgate-redis-'));
    for (const [i, p] of ports.entries()) {
      const yaml = readFileSync(EXAMPLE, 'utf8').replace('port: 9101', `port: ${backend.port}`).replace('port: 8000', `port: ${p}`)
        .replace(/ {2}rateLimit:\n {4}second: 9\n {4}limitBy: consumer/, `  rateLimit:\n    second: 9\n    limitBy: consumer\n    policy: redis\n    redis: {host: 127.0.0.1, port: ${redis.port}}`);
      writeFileSync(join(dir, `gw${i}.yaml`), yaml);
      const proc = spawn(process.execPath, [MAIN, 'serve', '--config', join(dir, `gw${i}.yaml`), '--bind-address', '127.0.0.1', '--admin-address', '', '--no-watch'], { stdio: 'ignore' });
      procs.push(proc);
    }
    // A cold start loads every module; on a busy 2-core machine that took up to 10 s.
    for (const p of ports) await waitFor(async () => (await get(p, '/api/', { apikey: 'regular-key' })).status > 0, 60_000, 100);
    await startOfSecond();
    let ok = 0;
    for (let i = 0; i < 16; i++) if ((await get(ports[i % 2]!, '/api/', { apikey: 'regular-key' })).status === 200) ok++;
    assert.equal(ok, 9, 'nine per second across both processes');
  } finally {
    for (const p of procs) p.kill();
    redis.proc.kill();
  }
});
