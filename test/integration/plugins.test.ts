// Plugins and policies in controller mode, against the real API server: fluxgate.io CRDs from
// manifests/crds, key-auth and a per-consumer rate limit through real traffic, GEP-713 policy
// status written back (TargetNotFound, Accepted=False naming the field), fail-closed routes,
// and policy changes applied without a restart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'node:http';
import { join } from 'node:path';
import {
  createGatewayClass, createNamespaceWithEcho, deleteGatewayClass, deleteNamespace, eventually, findCondition, getJson,
  kubectl, programmedAddress, repo, skipReason, sleep, startFluxgate, uniqueName,
} from './helpers.ts';
import type { Condition, FluxgateProcess, TestClass } from './helpers.ts';

const GROUP = 'gateway.networking.k8s.io/v1';
const FG = 'fluxgate.io/v1alpha1';

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function get(address: string, path: string, host: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port: 80, path, headers: { host, ...headers }, agent: false, timeout: 3000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

interface PolicyStatus {
  metadata: { generation: number };
  status?: { conditions?: Condition[]; ancestors?: { ancestorRef: { kind: string; name: string }; controllerName: string; conditions: Condition[] }[] };
}

/** Waits until the policy's ancestor entry of ours for `target` says Accepted=`status` `reason`. */
async function ancestorCondition(plural: string, ns: string, name: string, controllerName: string, target: string, status: string, reason: string): Promise<Condition> {
  return eventually(`${plural} ${ns}/${name} ancestor ${target} Accepted=${status} ${reason}`, 20_000, async () => {
    const p = await getJson<PolicyStatus>(plural, ns, name);
    const a = p.status?.ancestors?.find((x) => x.controllerName === controllerName && x.ancestorRef.name === target);
    const c = findCondition(a?.conditions, 'Accepted');
    if (c?.status !== status || c.reason !== reason) return undefined;
    assert.equal(c.observedGeneration, p.metadata.generation);
    return c;
  }, 250);
}

async function installCrds(): Promise<void> {
  await kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(repo, 'manifests', 'crds')]);
  await kubectl(['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd/trafficpolicies.fluxgate.io', 'crd/authpolicies.fluxgate.io', 'crd/consumers.fluxgate.io']);
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('plugins and policies in controller mode', { timeout: 300_000 }, async (t) => {
  const reason = await skipReason();
  if (reason !== undefined) {
    t.skip(reason);
    return;
  }
  await installCrds();
  const ns = uniqueName('fg-plugins');
  const running: FluxgateProcess[] = [];
  const cls: TestClass = await createGatewayClass();
  t.after(async () => {
    await deleteGatewayClass(cls);
    for (const r of running) await r.stop();
    await deleteNamespace(ns);
  });
  await createNamespaceWithEcho(ns, ['echo-a']);
  const fg = await startFluxgate({ controllerName: cls.controllerName });
  running.push(fg);

  const route = (name: string, host: string): unknown => ({
    apiVersion: GROUP, kind: 'HTTPRoute', metadata: { name, namespace: ns },
    spec: { parentRefs: [{ name: 'gw' }], hostnames: [host], rules: [{ name: 'all', backendRefs: [{ name: 'echo-a', port: 8080 }] }] },
  });
  const target = (name: string): unknown => ({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name });
  const consumer = (name: string): unknown[] => [
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${name}-key`, namespace: ns }, data: { key: b64(`${name}-secret-key`) } },
    { apiVersion: FG, kind: 'Consumer', metadata: { name, namespace: ns }, spec: { username: name, credentials: [{ type: 'KeyAuth', secretRef: { name: `${name}-key` } }] } },
  ];
  await kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: GROUP, kind: 'Gateway', metadata: { name: 'gw', namespace: ns }, spec: { gatewayClassName: cls.className, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
      route('api', 'api.example.com'),
      route('open', 'open.example.com'),
      ...consumer('alice'),
      ...consumer('bob'),
      { apiVersion: FG, kind: 'AuthPolicy', metadata: { name: 'keys', namespace: ns }, spec: { targetRefs: [target('api')], keyAuth: { keyNames: ['apikey'] } } },
      // An hour window: the test never straddles its boundary (checked below), so counts are exact.
      { apiVersion: FG, kind: 'TrafficPolicy', metadata: { name: 'limits', namespace: ns }, spec: { targetRefs: [target('api')], rateLimit: { hour: 5, limitBy: 'consumer' } } },
      { apiVersion: FG, kind: 'TrafficPolicy', metadata: { name: 'orphan', namespace: ns }, spec: { targetRefs: [target('nope')], rateLimit: { second: 1 } } },
      // Valid for the CRD schema, invalid for the key-auth plugin.
      { apiVersion: FG, kind: 'AuthPolicy', metadata: { name: 'broken', namespace: ns }, spec: { targetRefs: [target('open')], keyAuth: { keyInHeader: false, keyInQuery: false } } },
    ],
  }));
  const address = await programmedAddress(ns, 'gw');

  await t.test('key-auth and a per-consumer limit: 200 five times, 429 with Retry-After at the sixth request', async () => {
    await ancestorCondition('authpolicies', ns, 'keys', cls.controllerName, 'gw', 'True', 'Accepted');
    await ancestorCondition('trafficpolicies', ns, 'limits', cls.controllerName, 'gw', 'True', 'Accepted');
    // Statuses are written after the table is applied, so the policies serve by now.
    assert.equal((await get(address, '/', 'api.example.com')).status, 401, 'no key');
    assert.equal((await get(address, '/', 'api.example.com', { apikey: 'wrong' })).status, 401, 'unknown key');
    const msIntoHour = Date.now() % 3_600_000;
    if (msIntoHour > 3_600_000 - 30_000) await sleep(3_600_000 - msIntoHour + 500);
    for (let i = 1; i <= 5; i++) {
      const res = await get(address, `/n/${i}`, 'api.example.com', { apikey: 'alice-secret-key' });
      assert.equal(res.status, 200, `request ${i}: ${res.body}`);
      assert.equal(res.headers['x-ratelimit-limit-hour'], '5');
      assert.equal(res.headers['x-ratelimit-remaining-hour'], String(5 - i));
      const echoed = JSON.parse(res.body) as { headers?: Record<string, string[]> };
      assert.deepEqual(echoed.headers?.['X-Consumer-Username'], ['alice'], 'the consumer is passed upstream');
    }
    const limited = await get(address, '/n/6', 'api.example.com', { apikey: 'alice-secret-key' });
    assert.equal(limited.status, 429);
    assert.match(String(limited.headers['retry-after']), /^[1-9]\d*$/);
    assert.equal(limited.headers['x-ratelimit-remaining-hour'], '0');
    assert.equal((await get(address, '/', 'api.example.com', { apikey: 'bob-secret-key' })).status, 200, 'another consumer has its own count');
  });

  await t.test('a policy targeting a missing route: TargetNotFound naming the target', async () => {
    const c = await ancestorCondition('trafficpolicies', ns, 'orphan', cls.controllerName, 'nope', 'False', 'TargetNotFound');
    assert.match(c.message, /spec\.targetRefs\[0\]/);
    assert.match(c.message, /"nope"/);
  });

  await t.test('an invalid policy: Accepted=False naming the field, the route using it fails closed', async () => {
    const c = await ancestorCondition('authpolicies', ns, 'broken', cls.controllerName, 'gw', 'False', 'Invalid');
    assert.match(c.message, /spec\.keyAuth\.keyInHeader/);
    const p = await getJson<PolicyStatus>('authpolicies', ns, 'broken');
    const top = findCondition(p.status?.conditions, 'Accepted');
    assert.equal(top?.status, 'False');
    assert.match(top?.message ?? '', /spec\.keyAuth\.keyInHeader/);
    await eventually('route open ResolvedRefs=False InvalidPolicy', 20_000, async () => {
      const r = await getJson<{ status?: { parents?: { controllerName: string; conditions: Condition[] }[] } }>('httproute', ns, 'open');
      const rc = findCondition(r.status?.parents?.find((x) => x.controllerName === cls.controllerName)?.conditions, 'ResolvedRefs');
      return rc?.status === 'False' && rc.reason === 'InvalidPolicy' && /broken/.test(rc.message) ? true : undefined;
    }, 250);
    const res = await get(address, '/', 'open.example.com');
    assert.equal(res.status, 500, 'authentication fails closed');
    assert.match(res.body, /PLUGIN_CONFIG_INVALID/);
  });

  await t.test('policy changes apply without a restart', async () => {
    const before = fg.child.pid;
    // Fix the broken policy: the route now asks for a key instead of answering 500.
    await kubectl(['patch', 'authpolicy', 'broken', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ spec: { keyAuth: { keyInQuery: true, keyNames: ['apikey'] } } })]);
    await ancestorCondition('authpolicies', ns, 'broken', cls.controllerName, 'gw', 'True', 'Accepted');
    assert.equal((await get(address, '/', 'open.example.com')).status, 401);
    assert.equal((await get(address, '/?apikey=bob-secret-key', 'open.example.com')).status, 200);
    // Raise alice's limit: she is served again.
    await kubectl(['patch', 'trafficpolicy', 'limits', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ spec: { rateLimit: { hour: 50 } } })]);
    await eventually('the raised limit serves', 20_000, async () => {
      const res = await get(address, '/', 'api.example.com', { apikey: 'alice-secret-key' });
      return res.status === 200 && res.headers['x-ratelimit-limit-hour'] === '50' ? true : undefined;
    }, 200);
    // A rotated key: the old one stops working, the new one works.
    await kubectl(['patch', 'secret', 'bob-key', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ data: { key: b64('bob-rotated') } })]);
    await eventually('the rotated key is in use', 20_000, async () => {
      const oldKey = await get(address, '/', 'api.example.com', { apikey: 'bob-secret-key' });
      const newKey = await get(address, '/', 'api.example.com', { apikey: 'bob-rotated' });
      return oldKey.status === 401 && newKey.status === 200 ? true : undefined;
    }, 200);
    // An active health check on the open route: the echo pod passes it; expecting only 204
    // fails it, and with every endpoint failing, all of them still get traffic (panic mode).
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: FG, kind: 'TrafficPolicy', metadata: { name: 'health', namespace: ns }, spec: { targetRefs: [target('open')], healthCheck: { active: { path: '/healthz', interval: '200ms', unhealthyThreshold: 2, healthyThreshold: 1 } } } }));
    const endpointHealth = async (): Promise<{ endpoint: string; healthy: boolean; probes: number }[]> =>
      ((await (await fetch(`${fg.adminUrl}/debug/status`, { signal: AbortSignal.timeout(3000) })).json()) as { endpointHealth: { endpoint: string; healthy: boolean; probes: number }[] }).endpointHealth;
    await eventually('the echo endpoint probed and healthy', 20_000, async () => {
      const h = await endpointHealth();
      return h.length === 1 && h[0]!.healthy && h[0]!.probes >= 2 && /^10\.244\./.test(h[0]!.endpoint) ? true : undefined;
    }, 200);
    await kubectl(['patch', 'trafficpolicy', 'health', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ spec: { healthCheck: { active: { expectedStatuses: [204] } } } })]);
    await eventually('the echo endpoint fails the stricter check', 20_000, async () => {
      const h = await endpointHealth();
      return h.length === 1 && !h[0]!.healthy ? true : undefined;
    }, 200);
    assert.equal((await get(address, '/?apikey=bob-rotated', 'open.example.com')).status, 200, 'panic mode: the only endpoint still serves');
    await kubectl(['delete', 'trafficpolicy', 'health', '-n', ns]);
    await eventually('probes stop with the policy', 20_000, async () => ((await endpointHealth()).length === 0 ? true : undefined), 200);
    // Removing the auth policy opens the route.
    await kubectl(['delete', 'authpolicy', 'keys', '-n', ns]);
    await eventually('the route is open without the AuthPolicy', 20_000, async () => ((await get(address, '/', 'api.example.com')).status === 200 ? true : undefined), 200);
    assert.equal(fg.child.pid, before);
    assert.equal(fg.child.exitCode, null, 'the same process served throughout');
  });
});
