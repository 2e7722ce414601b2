// Active health checks (IR Backend.healthCheck) with real backends on loopback that fail their
// probes, die, come back, and a proxy whose tables change under them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, HealthCheck } from '../../src/ir/index.ts';
import type { Proxy } from '../../src/proxy/index.ts';
import { RoundRobin } from '../../src/proxy/balancer.ts';
import { backend, listener, match, ref, route, send, startBackend, startH2cBackend, startProxy, table, vhost, type TestBackend } from './helpers.ts';

const CHECK: HealthCheck = {
  id: 'policy/default/TrafficPolicy/hc/healthCheck@HTTPRoute/default/web',
  path: '/healthz', intervalMs: 40, timeoutMs: 200, healthyThreshold: 2, unhealthyThreshold: 2,
  expectedStatuses: [{ min: 200, max: 299 }],
};

interface Flaky extends TestBackend {
  /** Status of /healthz; 0 = never answer (a hung health endpoint). */
  health: number;
  probes: number;
}

async function flaky(name: string): Promise<Flaky> {
  const state = { health: 200, probes: 0 };
  const b = await startBackend(name, (req, _body, res) => {
    if (req.url !== '/healthz') return false;
    state.probes++;
    if (state.health === 0) return true;
    res.writeHead(state.health, { 'content-length': '0' });
    res.end();
    return true;
  });
  return {
    name: b.name, port: b.port, seen: b.seen, server: b.server, close: b.close,
    get health() { return state.health; },
    set health(v: number) { state.health = v; },
    get probes() { return state.probes; },
  };
}

/** Restarts a backend on a given port (what "the endpoint came back" looks like). */
async function flakyOn(name: string, port: number): Promise<Flaky> {
  const { createServer } = await import('node:http');
  // startBackend binds port 0; to come back on the same port, bind it explicitly.
  const state = { health: 200, probes: 0 };
  const seen: TestBackend['seen'] = [];
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      state.probes++;
      res.writeHead(state.health, { 'content-length': '0' });
      res.end();
      return;
    }
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: '', httpVersion: req.httpVersion });
    const out = JSON.stringify({ backend: name });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    name, port, seen, server,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
    get health() { return state.health; },
    set health(v: number) { state.health = v; },
    get probes() { return state.probes; },
  } as Flaky;
}

function checked(id: string, ports: number[], check: HealthCheck = CHECK, protocol: Backend['protocol'] = 'http1'): Backend {
  return { ...backend(id, ports, protocol), healthCheck: check };
}

function webTable(b: Backend) {
  return table([listener([vhost('*', [route('r', match('/'), [ref(b.id)])])])], [b]);
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const healthOf = (proxy: Proxy, port: number): boolean | undefined => proxy.health().find((h) => h.endpoint === `127.0.0.1:${port}`)?.healthy;

/** Which backends `n` requests reach. */
async function spread(port: number, n: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await send(port, `/x${i}`);
    assert.equal(r.status, 200, r.body);
    const name = String(r.json().backend);
    out.set(name, (out.get(name) ?? 0) + 1);
  }
  return out;
}

test('health check: an endpoint failing its probe leaves the rotation and returns once it passes again', async () => {
  const [a, b, c] = await Promise.all([flaky('a'), flaky('b'), flaky('c')]);
  const be = checked('backend/default/web/80', [a.port, b.port, c.port]);
  const { proxy, port } = await startProxy(webTable(be));
  try {
    await until('first probes', () => a.probes > 0 && b.probes > 0 && c.probes > 0);
    assert.deepEqual([...(await spread(port, 9)).keys()].sort(), ['a', 'b', 'c']);
    b.health = 503;
    await until('b unhealthy', () => healthOf(proxy, b.port) === false);
    // It took unhealthyThreshold failed probes, no fewer.
    assert.ok(b.probes >= 3);
    const without = await spread(port, 12);
    assert.equal(without.get('b'), undefined, 'b gets no traffic while unhealthy (its normal answers still work)');
    assert.equal(without.get('a'), 6);
    assert.equal(without.get('c'), 6);
    b.health = 200;
    await until('b healthy again', () => healthOf(proxy, b.port) === true);
    assert.deepEqual([...(await spread(port, 9)).entries()].sort(), [['a', 3], ['b', 3], ['c', 3]]);
  } finally {
    await proxy.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

test('health check: a killed endpoint is taken out before clients see errors, and comes back when restarted', async () => {
  const a = await flaky('a');
  let b: Flaky = await flaky('b');
  const bPort = b.port;
  const be = checked('backend/default/web/80', [a.port, bPort]);
  const { proxy, port } = await startProxy(webTable(be));
  try {
    await until('first probes', () => a.probes > 0 && b.probes > 0);
    await b.close();
    await until('b unhealthy (connection refused)', () => healthOf(proxy, bPort) === false);
    const served = await spread(port, 10);
    assert.deepEqual([...served.entries()], [['a', 10]], 'every request served by the live endpoint');
    b = await flakyOn('b', bPort);
    await until('b healthy after restart', () => healthOf(proxy, bPort) === true);
    const back = await spread(port, 10);
    assert.equal(back.get('b'), 5);
    assert.equal(back.get('a'), 5);
  } finally {
    await proxy.close();
    await Promise.all([a.close(), b.close()]);
  }
});

test('health check: when every endpoint fails, all of them get traffic (panic mode), and a hung probe counts as failed', async () => {
  const [a, b] = await Promise.all([flaky('a'), flaky('b')]);
  const be = checked('backend/default/web/80', [a.port, b.port]);
  const { proxy, port } = await startProxy(webTable(be));
  try {
    a.health = 500;
    b.health = 0; // never answers: the probe timeout decides
    await until('both unhealthy', () => healthOf(proxy, a.port) === false && healthOf(proxy, b.port) === false);
    const s = await spread(port, 10);
    assert.equal(s.get('a'), 5);
    assert.equal(s.get('b'), 5);
  } finally {
    await proxy.close();
    await Promise.all([a.close(), b.close()]);
  }
});

test('health check: expected statuses decide; the Host header and path are the configured ones', async () => {
  const hosts: string[] = [];
  const a = await startBackend('a', (req, _b, res) => {
    if (req.url !== '/ready?full=1') return false;
    hosts.push(String(req.headers.host));
    res.writeHead(204, { 'content-length': '0' });
    res.end();
    return true;
  });
  const pass = checked('backend/default/web/80', [a.port], { ...CHECK, path: '/ready?full=1', host: 'probe.example', expectedStatuses: [{ min: 204, max: 204 }] });
  const { proxy } = await startProxy(webTable(pass));
  try {
    await until('probed', () => hosts.length >= 3);
    assert.equal(healthOf(proxy, a.port), true);
    assert.equal(hosts[0], 'probe.example');
    await proxy.apply(webTable({ ...pass, healthCheck: { ...CHECK, path: '/ready?full=1', expectedStatuses: [{ min: 200, max: 200 }] } }));
    await until('a 204 fails a check that expects 200', () => healthOf(proxy, a.port) === false);
  } finally {
    await proxy.close();
    await a.close();
  }
});

test('health check: probes run only while a table uses them; the same check survives a reload with its state', async () => {
  const [a, b] = await Promise.all([flaky('a'), flaky('b')]);
  const be = checked('backend/default/web/80', [a.port, b.port]);
  const { proxy, port } = await startProxy(webTable(be));
  try {
    b.health = 503;
    await until('b unhealthy', () => healthOf(proxy, b.port) === false);
    // A new table (another route) with the same check: b stays out, its count is not reset.
    const t2 = table([listener([vhost('*', [route('r2', match('/'), [ref(be.id)])])])], [be]);
    await proxy.apply(t2);
    assert.equal(healthOf(proxy, b.port), false);
    assert.deepEqual([...(await spread(port, 4)).keys()], ['a']);
    // A table without the check: probes stop, every endpoint serves.
    await proxy.apply(webTable(backend(be.id, [a.port, b.port])));
    assert.equal(proxy.health().length, 0);
    const before = a.probes + b.probes;
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(a.probes + b.probes <= before + 2, 'no probe loop left running (at most the in-flight ones end)');
    assert.deepEqual([...(await spread(port, 4)).keys()].sort(), ['a', 'b']);
    // Back on, then close: nothing keeps probing.
    await proxy.apply(webTable(be));
    await until('probing again', () => proxy.health().length === 2);
    await proxy.close();
    const after = a.probes + b.probes;
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(a.probes + b.probes <= after + 2, 'close() stops every probe');
    assert.equal(proxy.health().length, 0);
  } finally {
    await proxy.close().catch(() => undefined);
    await Promise.all([a.close(), b.close()]);
  }
});

test('health check: h2c backends are probed over HTTP/2', async () => {
  const h = await startH2cBackend('h');
  const be = checked('backend/default/grpc/80', [h.port], CHECK, 'h2c');
  const { proxy } = await startProxy(webTable(be));
  try {
    await until('probed', () => h.seen.filter((s) => s.url === '/healthz').length >= 2);
    assert.equal(h.seen.find((s) => s.url === '/healthz')!.httpVersion, '2.0');
    assert.equal(healthOf(proxy, h.port), true);
  } finally {
    await proxy.close();
    await h.close();
  }
});

test('balancer: RoundRobin skips unhealthy items and uses all of them when none is healthy', () => {
  const rr = new RoundRobin(['a', 'b', 'c']);
  const health = [{ healthy: true }, { healthy: false }, { healthy: true }];
  rr.health = health;
  assert.deepEqual(Array.from({ length: 6 }, () => rr.pick()), ['a', 'c', 'a', 'c', 'a', 'c']);
  for (const h of health) h.healthy = false;
  assert.deepEqual(Array.from({ length: 6 }, () => rr.pick()).sort(), ['a', 'a', 'b', 'b', 'c', 'c']);
});
