// The API server goes away for 30 seconds (a TCP proxy in front of it is cut): FluxGate keeps
// serving the last good table with zero failed requests, and a change made meanwhile is applied
// within 5 seconds of recovery. Then the controller restarts: no failed request once it is
// back, and no status flapping (no condition transitions, no status writes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createKubeClient, loadKubeConfig } from '../../src/controller/index.ts';
import {
  createGatewayClass, createNamespaceWithEcho, deleteGatewayClass, deleteNamespace, eventually, getJson, httpGet,
  kubeconfig, kubectl, programmedAddress, skipReason, sleep, startApiProxy, startFluxgate, uniqueName,
} from './helpers.ts';
import type { TestClass, ApiProxy, FluxgateProcess } from './helpers.ts';

const HOST = 'outage.example';
const OUTAGE_MS = Number(process.env.FLUXGATE_OUTAGE_MS ?? 30_000);

/** Sequential requests on `loops` loops until stopped; counts answers by pod prefix and failures. */
function load(address: string, loops = 2): { stop(): Promise<{ ok: number; failed: number; lastApp: () => string; errors: string[] }>; lastApp(): string } {
  let running = true;
  let ok = 0;
  let failed = 0;
  let last = '';
  const errors: string[] = [];
  const loop = async (): Promise<void> => {
    while (running) {
      try {
        const res = await httpGet(address, 80, '/load', HOST);
        if (res.status === 200) {
          ok++;
          last = (res.json().pod ?? '').replace(/-[^-]+-[^-]+$/, '');
        } else {
          failed++;
          if (errors.length < 10) errors.push(`HTTP ${res.status}: ${res.body.slice(0, 100)}`);
        }
      } catch (err) {
        failed++;
        if (errors.length < 10) errors.push((err as Error).message);
      }
      await sleep(5);
    }
  };
  const loopsDone = Promise.all(Array.from({ length: loops }, loop));
  return {
    lastApp: () => last,
    async stop() {
      running = false;
      await loopsDone;
      return { ok, failed, lastApp: () => last, errors };
    },
  };
}

test('API server outage: last good table keeps serving; changes land within 5 s of recovery; restart does not flap', { timeout: 300_000 }, async (t) => {
  const reason = await skipReason();
  if (reason !== undefined) {
    t.skip(reason);
    return;
  }
  const ns = uniqueName('fg-outage');
  let fluxgate: FluxgateProcess | undefined;
  const proxies: ApiProxy[] = [];
  const classes: TestClass[] = [];
  t.after(async () => {
    for (const c of classes) await deleteGatewayClass(c);
    await fluxgate?.stop();
    for (const p of proxies) await p.close();
    await deleteNamespace(ns);
  });
  const cls = await createGatewayClass();
  classes.push(cls);
  await createNamespaceWithEcho(ns, ['echo-a', 'echo-b']);
  const proxy = await startApiProxy();
  proxies.push(proxy);
  fluxgate = await startFluxgate({ controllerName: cls.controllerName, kubeconfig: proxy.kubeconfig });

  const routeTo = (app: string): unknown => ({
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: ns },
    spec: { parentRefs: [{ name: 'gw' }], hostnames: [HOST], rules: [{ backendRefs: [{ name: app, port: 8080 }] }] },
  });
  await kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: ns }, spec: { gatewayClassName: cls.className, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
      routeTo('echo-a'),
    ],
  }));
  const address = await programmedAddress(ns, 'gw');
  await eventually('traffic to echo-a', 15_000, async () => {
    const res = await httpGet(address, 80, '/', HOST);
    return res.status === 200 && (res.json().pod ?? '').startsWith('echo-a-') ? true : undefined;
  }, 50);

  await t.test(`outage of ${OUTAGE_MS / 1000} s: zero failed requests, change applied within 5 s of recovery`, async (st) => {
    const traffic = load(address);
    st.after(async () => {
      await traffic.stop();
    });
    await sleep(1000);
    await proxy.cut();
    const cutAt = Date.now();
    await sleep(2000);
    // The change goes to the API server directly: only FluxGate's view of the API is cut.
    const client = createKubeClient(loadKubeConfig({ kubeconfig }));
    const res = await client.request('PUT', `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes/web`, {
      body: { ...(routeTo('echo-b') as object), metadata: { name: 'web', namespace: ns, resourceVersion: (await getJson<{ metadata: { resourceVersion: string } }>('httproute', ns, 'web')).metadata.resourceVersion } },
    });
    assert.equal(res.status, 200);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - cutAt)));
    if (traffic.lastApp() !== 'echo-a') {
      const r = await traffic.stop();
      assert.fail(`the old table did not serve during the outage: last answer from "${traffic.lastApp()}", ${r.ok} ok, ${r.failed} failed (${r.errors.join('; ')}); FluxGate log: ${fluxgate!.logs.slice(-15).join('\n')}`);
    }
    await proxy.restore();
    const restoredAt = performance.now();
    await eventually('the change made during the outage to serve', 15_000, async () => (traffic.lastApp() === 'echo-b' ? true : undefined), 10);
    const catchUp = performance.now() - restoredAt;
    await sleep(1000);
    const result = await traffic.stop();
    const line = `API outage ${OUTAGE_MS / 1000} s: ${result.ok} requests ok, ${result.failed} failed; change applied ${catchUp.toFixed(0)} ms after recovery`;
    console.log(line);
    t.diagnostic(line);
    assert.equal(result.failed, 0, result.errors.join('; '));
    assert.ok(catchUp < 5000, line);
  });

  await t.test('controller restart: no failed requests once back, no status flapping', async (st) => {
    // Status settles (the route's status after the change above) before the snapshot is taken.
    await sleep(2000);
    const before = {
      gw: await getJson<{ metadata: { resourceVersion: string }; status: unknown }>('gateway', ns, 'gw'),
      route: await getJson<{ metadata: { resourceVersion: string }; status: unknown }>('httproute', ns, 'web'),
    };
    await fluxgate!.stop('SIGTERM');
    fluxgate = await startFluxgate({ controllerName: cls.controllerName, kubeconfig: proxy.kubeconfig });
    const traffic = load(address);
    st.after(async () => {
      await traffic.stop();
    });
    await sleep(3000);
    const result = await traffic.stop();
    assert.equal(result.failed, 0, result.errors.join('; '));
    assert.ok(result.ok > 0);
    const after = {
      gw: await getJson<{ metadata: { resourceVersion: string }; status: unknown }>('gateway', ns, 'gw'),
      route: await getJson<{ metadata: { resourceVersion: string }; status: unknown }>('httproute', ns, 'web'),
    };
    assert.deepEqual(after.gw.status, before.gw.status, 'Gateway status unchanged by the restart');
    assert.deepEqual(after.route.status, before.route.status, 'HTTPRoute status unchanged by the restart');
    assert.equal(after.gw.metadata.resourceVersion, before.gw.metadata.resourceVersion, 'no Gateway status write');
    assert.equal(after.route.metadata.resourceVersion, before.route.metadata.resourceVersion, 'no HTTPRoute status write');
  });
});
