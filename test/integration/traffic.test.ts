// kubectl apply of a Gateway and an HTTPRoute to echo-basic pods: traffic flows through
// FluxGate to the pods; changes of weights, matches and filters take effect (p50/p99 printed; the
// bound here is a correctness bound for a busy CI machine, the latency target is bench/'s); deleting
// the route makes the path 404.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createKubeClient, loadKubeConfig } from '../../src/controller/index.ts';
import {
  createGatewayClass, createNamespaceWithEcho, deleteGatewayClass, deleteNamespace, eventually, httpGet, kubeconfig,
  kubectl, percentile, programmedAddress, skipReason, startFluxgate, uniqueName,
} from './helpers.ts';
import type { TestClass, FluxgateProcess } from './helpers.ts';

const HOST = 'traffic.example';

interface RouteState { header: string; path: string; weights: [number, number] }

function routeSpec(s: RouteState): unknown {
  return {
    parentRefs: [{ name: 'gw' }],
    hostnames: [HOST],
    rules: [{
      matches: [{ path: { type: 'PathPrefix', value: s.path } }],
      filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Change', value: s.header }] } }],
      backendRefs: [{ name: 'echo-a', port: 8080, weight: s.weights[0] }, { name: 'echo-b', port: 8080, weight: s.weights[1] }],
    }],
  };
}

test('kubectl apply drives traffic; changes apply within seconds; deleting the route gives 404', { timeout: 300_000 }, async (t) => {
  const reason = await skipReason();
  if (reason !== undefined) {
    t.skip(reason);
    return;
  }
  const ns = uniqueName('fg-traffic');
  const running: FluxgateProcess[] = [];
  const classes: TestClass[] = [];
  t.after(async () => {
    for (const c of classes) await deleteGatewayClass(c);
    for (const r of running) await r.stop();
    await deleteNamespace(ns);
  });
  const cls = await createGatewayClass();
  classes.push(cls);
  await createNamespaceWithEcho(ns, ['echo-a', 'echo-b']);
  running.push(await startFluxgate({ controllerName: cls.controllerName }));

  let state: RouteState = { header: 'v0', path: '/', weights: [100, 0] };
  await kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: ns }, spec: { gatewayClassName: cls.className, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: ns }, spec: routeSpec(state) },
    ],
  }));
  const address = await programmedAddress(ns, 'gw');
  assert.match(address, /^127\./);

  const first = await eventually('a 200 from echo-a through FluxGate', 15_000, async () => {
    const res = await httpGet(address, 80, '/hello', HOST);
    return res.status === 200 ? res.json() : undefined;
  }, 50);
  assert.equal(first.namespace, ns);
  assert.match(first.pod ?? '', /^echo-a-/);
  assert.equal(first.path, '/hello');

  // Changes go straight to the API (the clock starts before the write), then we poll the data
  // plane until the change is visible.
  const client = createKubeClient(loadKubeConfig({ kubeconfig }));
  const routePath = `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes/web`;
  const latencies: number[] = [];
  const kinds = ['filter', 'match', 'weights'] as const;
  for (let i = 1; i <= 12; i++) {
    const kind = kinds[i % 3]!;
    const next: RouteState = { ...state, weights: [...state.weights] };
    if (kind === 'filter') next.header = `v${i}`;
    if (kind === 'match') next.path = `/m${i}`;
    if (kind === 'weights') next.weights = state.weights[0] === 100 ? [0, 100] : [100, 0];
    const expectApp = next.weights[0] === 100 ? 'echo-a-' : 'echo-b-';
    const started = performance.now();
    const res = await client.request('PATCH', routePath, { body: { spec: routeSpec(next) }, contentType: 'application/merge-patch+json' });
    assert.equal(res.status, 200, `patch ${i}`);
    for (;;) {
      const answer = await httpGet(address, 80, `${next.path}/probe`, HOST).catch(() => undefined);
      if (answer?.status === 200) {
        const body = answer.json();
        if (body.headers?.['X-Change']?.[0] === next.header && (body.pod ?? '').startsWith(expectApp)) break;
      }
      if (performance.now() - started > 10_000) {
        assert.fail(`change ${i} (${kind}) not visible after 10 s; FluxGate's last log lines:\n${running[0]!.logs.slice(-80).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    latencies.push(performance.now() - started);
    state = next;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  const line = `change-to-traffic latency over ${sorted.length} changes (weights, matches, filters): p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`;
  console.log(line);
  t.diagnostic(line);
  assert.ok(p99 < 5000, line);

  await kubectl(['delete', 'httproute', 'web', '-n', ns]);
  await eventually('404 after the route is deleted', 5_000, async () => {
    const res = await httpGet(address, 80, `${state.path}/probe`, HOST);
    return res.status === 404 ? true : undefined;
  }, 20);
});
