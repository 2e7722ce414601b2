// Invalid input gets the right conditions, written by FluxGate to the real API: a missing
// backend, a cross-namespace backend without a ReferenceGrant (allowed once the grant exists,
// revoked when it is deleted), a hostname mismatch, conflicting listeners, a wrong sectionName.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createGatewayClass, createNamespaceWithEcho, deleteGatewayClass, deleteNamespace, eventually, findCondition, getJson,
  httpGet, kubectl, programmedAddress, skipReason, startFluxgate, uniqueName,
} from './helpers.ts';
import type { TestClass, Condition, FluxgateProcess } from './helpers.ts';

const GROUP = 'gateway.networking.k8s.io/v1';

interface RouteStatus { metadata: { generation: number }; status?: { parents?: { parentRef: { name: string }; controllerName: string; conditions: Condition[] }[] } }

function route(ns: string, name: string, spec: Record<string, unknown>): unknown {
  return { apiVersion: GROUP, kind: 'HTTPRoute', metadata: { name, namespace: ns }, spec };
}

/** Waits until the route's parent entry of ours has `type` with the given status and reason. */
async function routeCondition(controllerName: string, ns: string, name: string, type: string, status: string, reason: string): Promise<Condition> {
  return eventually(`HTTPRoute ${ns}/${name} ${type}=${status} ${reason}`, 20_000, async () => {
    const r = await getJson<RouteStatus>('httproute', ns, name);
    const parent = r.status?.parents?.find((p) => p.controllerName === controllerName);
    const c = findCondition(parent?.conditions, type);
    if (c?.status !== status || c.reason !== reason) return undefined;
    assert.equal(c.observedGeneration, r.metadata.generation, 'observedGeneration follows the object');
    assert.match(c.lastTransitionTime ?? '', /^\d{4}-\d\d-\d\dT/);
    return c;
  }, 250);
}

test('invalid input gets the right conditions', { timeout: 300_000 }, async (t) => {
  const reason = await skipReason();
  if (reason !== undefined) {
    t.skip(reason);
    return;
  }
  const ns = uniqueName('fg-cond');
  const sharedAddress = `127.0.255.${1 + Math.floor(Math.random() * 254)}`;
  const other = uniqueName('fg-cond-backends');
  const running: FluxgateProcess[] = [];
  const classes: TestClass[] = [];
  t.after(async () => {
    for (const c of classes) await deleteGatewayClass(c);
    for (const r of running) await r.stop();
    await deleteNamespace(ns);
    await deleteNamespace(other);
  });
  const cls = await createGatewayClass();
  classes.push(cls);
  await createNamespaceWithEcho(ns, ['echo-a']);
  await createNamespaceWithEcho(other, ['echo-x']);
  running.push(await startFluxgate({ controllerName: cls.controllerName }));

  await kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: GROUP, kind: 'Gateway', metadata: { name: 'gw', namespace: ns }, spec: { gatewayClassName: cls.className, listeners: [{ name: 'http', port: 80, protocol: 'HTTP', hostname: '*.example.com' }] } },
      // The API rejects identical listeners within one Gateway, so the conflict is between two
      // Gateways that asked for the same address.
      ...['conflict-a', 'conflict-b'].map((name) => ({ apiVersion: GROUP, kind: 'Gateway', metadata: { name, namespace: ns }, spec: { gatewayClassName: cls.className, addresses: [{ type: 'IPAddress', value: sharedAddress }], listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } })),
      route(ns, 'missing-backend', { parentRefs: [{ name: 'gw' }], hostnames: ['missing.example.com'], rules: [{ backendRefs: [{ name: 'nope', port: 8080 }] }] }),
      route(ns, 'cross-ns', { parentRefs: [{ name: 'gw' }], hostnames: ['cross.example.com'], rules: [{ backendRefs: [{ name: 'echo-x', namespace: other, port: 8080 }] }] }),
      route(ns, 'hostname-mismatch', { parentRefs: [{ name: 'gw' }], hostnames: ['app.other.test'], rules: [{ backendRefs: [{ name: 'echo-a', port: 8080 }] }] }),
      { apiVersion: GROUP, kind: 'GRPCRoute', metadata: { name: 'grpc-missing', namespace: ns }, spec: { parentRefs: [{ name: 'gw' }], hostnames: ['grpc.example.com'], rules: [{ backendRefs: [{ name: 'nope-grpc', port: 8080 }] }] } },
      route(ns, 'wrong-section', { parentRefs: [{ name: 'gw', sectionName: 'nope' }], rules: [{ backendRefs: [{ name: 'echo-a', port: 8080 }] }] }),
    ],
  }));
  const address = await programmedAddress(ns, 'gw');

  await t.test('missing backend: Accepted, ResolvedRefs=False BackendNotFound naming the field; 500 for its share', async () => {
    await routeCondition(cls.controllerName, ns, 'missing-backend', 'Accepted', 'True', 'Accepted');
    const c = await routeCondition(cls.controllerName, ns, 'missing-backend', 'ResolvedRefs', 'False', 'BackendNotFound');
    assert.match(c.message, /spec\.rules\[0\]\.backendRefs\[0\]/);
    assert.match(c.message, /"nope"/);
    assert.equal((await httpGet(address, 80, '/', 'missing.example.com')).status, 500);
  });

  await t.test('cross-namespace backend: RefNotPermitted, allowed by a ReferenceGrant, revoked when it is deleted', async () => {
    await routeCondition(cls.controllerName, ns, 'cross-ns', 'ResolvedRefs', 'False', 'RefNotPermitted');
    assert.equal((await httpGet(address, 80, '/', 'cross.example.com')).status, 500);
    await kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'allow', namespace: other },
      spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: ns }], to: [{ group: '', kind: 'Service' }] },
    }));
    await routeCondition(cls.controllerName, ns, 'cross-ns', 'ResolvedRefs', 'True', 'ResolvedRefs');
    const allowed = await eventually('traffic to the granted backend', 10_000, async () => {
      const res = await httpGet(address, 80, '/', 'cross.example.com');
      return res.status === 200 ? res.json() : undefined;
    }, 50);
    assert.equal(allowed.namespace, other);
    await kubectl(['delete', 'referencegrant', 'allow', '-n', other]);
    await routeCondition(cls.controllerName, ns, 'cross-ns', 'ResolvedRefs', 'False', 'RefNotPermitted');
    await eventually('traffic refused once the grant is gone', 10_000, async () => ((await httpGet(address, 80, '/', 'cross.example.com')).status === 500 ? true : undefined), 50);
  });

  await t.test('GRPCRoute: statuses are written for GRPCRoutes too (missing backend)', async () => {
    await eventually('GRPCRoute grpc-missing ResolvedRefs=False BackendNotFound', 20_000, async () => {
      const r = await getJson<RouteStatus>('grpcroute', ns, 'grpc-missing');
      const c = findCondition(r.status?.parents?.find((p) => p.controllerName === cls.controllerName)?.conditions, 'ResolvedRefs');
      return c?.status === 'False' && c.reason === 'BackendNotFound' ? true : undefined;
    }, 250);
  });

  await t.test('hostname mismatch: Accepted=False NoMatchingListenerHostname', async () => {
    await routeCondition(cls.controllerName, ns, 'hostname-mismatch', 'Accepted', 'False', 'NoMatchingListenerHostname');
  });

  await t.test('wrong sectionName: Accepted=False NoMatchingParent', async () => {
    await routeCondition(cls.controllerName, ns, 'wrong-section', 'Accepted', 'False', 'NoMatchingParent');
  });

  await t.test('conflicting listeners: Conflicted=True HostnameConflict on both Gateways sharing an address and port', async () => {
    for (const name of ['conflict-a', 'conflict-b']) {
      const c = await eventually(`listener conflict on Gateway ${name}`, 20_000, async () => {
        const gw = await getJson<{ status?: { listeners?: { name: string; conditions: Condition[] }[] } }>('gateway', ns, name);
        const conflicted = findCondition(gw.status?.listeners?.[0]?.conditions, 'Conflicted');
        return conflicted?.status === 'True' && conflicted.reason === 'HostnameConflict' ? conflicted : undefined;
      }, 250);
      assert.match(c.message, /spec\.listeners\[0\]/);
    }
  });

  await t.test('GatewayClass: Accepted, SupportedVersion and supportedFeatures', async () => {
    const gc = await getJson<{ status?: { conditions?: Condition[]; supportedFeatures?: { name: string }[] } }>('gatewayclass', undefined, cls.className);
    assert.equal(findCondition(gc.status?.conditions, 'Accepted')?.status, 'True');
    assert.equal(findCondition(gc.status?.conditions, 'SupportedVersion')?.status, 'True');
    const names = (gc.status?.supportedFeatures ?? []).map((f) => f.name);
    assert.ok(names.includes('HTTPRoute') && names.includes('Gateway'), names.join(','));
    assert.deepEqual(names, [...names].sort());
  });
});
