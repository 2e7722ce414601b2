import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStatusWriter } from '../../src/controller/status-writer.ts';
import { createStore } from '../../src/controller/store.ts';
import type { KubeObject } from '../../src/controller/store.ts';
import type { KubeClient, KubeResponse } from '../../src/controller/kube-client.ts';
import { createLogger } from '../../src/observability/index.ts';

const CTRL = 'fluxgate.io/gateway-controller';
const T0 = Date.UTC(2025, 0, 1);

/** An API with one resourceVersion counter: PUT with a stale resourceVersion is a 409. */
function fakeApi(objects: Map<string, KubeObject>) {
  let rv = 100;
  const calls: string[] = [];
  const client: KubeClient = {
    server: 'https://fake',
    async request(method, path, options): Promise<KubeResponse> {
      calls.push(`${method} ${path}`);
      const key = path.replace(/\/status$/, '');
      const current = objects.get(key);
      if (current === undefined) return { status: 404, body: {} };
      if (method === 'GET') return { status: 200, body: current };
      const body = options?.body as KubeObject;
      if (body.metadata?.resourceVersion !== current.metadata?.resourceVersion) return { status: 409, body: { message: 'conflict' } };
      const next = { ...current, status: body.status, metadata: { ...current.metadata, resourceVersion: String(++rv) } };
      objects.set(key, next);
      return { status: 200, body: next };
    },
    watch: () => Promise.reject(new Error('not used')),
  };
  return { client, calls };
}

const routePath = '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/web';
const route = (rv: string, status?: unknown): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute',
  metadata: { name: 'web', namespace: 'default', resourceVersion: rv, generation: 1 },
  spec: { parentRefs: [{ name: 'gw' }] }, ...(status === undefined ? {} : { status }),
});
const ours = (message: string) => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', namespace: 'default', name: 'web',
  status: { parents: [{ parentRef: { name: 'gw' }, controllerName: CTRL, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message, observedGeneration: 1 }] }] },
});
const theirs = { parentRef: { name: 'other' }, controllerName: 'example.com/x', conditions: [] };

test('status writer: writes once, then skips an unchanged status', async () => {
  const objects = new Map([[routePath, route('1', { parents: [theirs] })]]);
  const { client, calls } = fakeApi(objects);
  const store = createStore();
  store.apply('HTTPRoute', 'ADDED', objects.get(routePath)!);
  const clock = { t: T0 };
  const w = createStatusWriter({ client, store, controllerName: CTRL, logger: createLogger('silent'), now: () => clock.t });
  await w.sync([ours('ok')]);
  assert.deepEqual(calls, [`PUT ${routePath}/status`]);
  const written = objects.get(routePath)!.status as { parents: { controllerName: string; conditions: { lastTransitionTime: string }[] }[] };
  assert.deepEqual(written.parents.map((p) => p.controllerName), ['example.com/x', CTRL]);
  assert.equal(written.parents[1]!.conditions[0]!.lastTransitionTime, '2025-01-01T00:00:00Z');
  clock.t += 60_000;
  await w.sync([ours('ok')]);
  assert.equal(calls.length, 1, 'no second write');
  assert.deepEqual(w.stats(), { writes: 1, skipped: 1, conflicts: 0, failures: 0 });
  w.stop();
});

test('status writer: a 409 is retried against a fresh read, keeping what another controller wrote meanwhile', async () => {
  const objects = new Map([[routePath, route('1')]]);
  const { client, calls } = fakeApi(objects);
  const store = createStore();
  store.apply('HTTPRoute', 'ADDED', objects.get(routePath)!);
  // Another controller writes its parent after our store saw the object.
  objects.set(routePath, route('2', { parents: [theirs] }));
  const w = createStatusWriter({ client, store, controllerName: CTRL, logger: createLogger('silent'), now: () => T0 });
  await w.sync([ours('ok')]);
  assert.deepEqual(calls, [`PUT ${routePath}/status`, `GET ${routePath}`, `PUT ${routePath}/status`]);
  const parents = (objects.get(routePath)!.status as { parents: { controllerName: string }[] }).parents;
  assert.deepEqual(parents.map((p) => p.controllerName), ['example.com/x', CTRL]);
  assert.equal(w.stats().conflicts, 1);
  w.stop();
});

test('status writer: a route that left our Gateways loses only our parent entry', async () => {
  const objects = new Map([[routePath, route('1', { parents: [theirs, ours('ok').status.parents[0]] })]]);
  const { client } = fakeApi(objects);
  const store = createStore();
  store.apply('HTTPRoute', 'ADDED', objects.get(routePath)!);
  const w = createStatusWriter({ client, store, controllerName: CTRL, logger: createLogger('silent'), now: () => T0 });
  await w.sync([]);
  assert.deepEqual((objects.get(routePath)!.status as { parents: unknown[] }).parents, [theirs]);
  w.stop();
});

test('status writer: an accepted GatewayClass gets supportedFeatures', async () => {
  const path = '/apis/gateway.networking.k8s.io/v1/gatewayclasses/fluxgate';
  const gc: KubeObject = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'fluxgate', resourceVersion: '1' }, spec: { controllerName: CTRL } };
  const objects = new Map([[path, gc]]);
  const { client } = fakeApi(objects);
  const store = createStore();
  store.apply('GatewayClass', 'ADDED', gc);
  const w = createStatusWriter({ client, store, controllerName: CTRL, logger: createLogger('silent'), now: () => T0 });
  await w.sync([{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', name: 'fluxgate', status: { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok' }] } }]);
  const status = objects.get(path)!.status as { supportedFeatures: { name: string }[] };
  assert.ok(status.supportedFeatures.some((f) => f.name === 'HTTPRoute'));
  w.stop();
});

test('status writer, in-cluster: Programmed=False/AddressNotAssigned while the Gateway Service has no address, then the address', async () => {
  const path = '/apis/gateway.networking.k8s.io/v1/namespaces/default/gateways/gw';
  const gw: KubeObject = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'default', resourceVersion: '1', generation: 1 }, spec: {} };
  const objects = new Map([[path, gw]]);
  const { client } = fakeApi(objects);
  const store = createStore();
  store.apply('Gateway', 'ADDED', gw);
  let addresses: { type: string; value: string }[] = [];
  const w = createStatusWriter({ client, store, controllerName: CTRL, logger: createLogger('silent'), now: () => T0, gatewayAddresses: () => addresses });
  const computed = [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', namespace: 'default', name: 'gw', status: {
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', observedGeneration: 1 }, { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'ok', observedGeneration: 1 }],
    listeners: [], addresses: [{ type: 'IPAddress', value: '0.0.0.0' }],
  } }];
  await w.sync(computed);
  type S = { conditions: { type: string; status: string; reason: string }[]; addresses?: unknown };
  let status = objects.get(path)!.status as S;
  assert.deepEqual(status.conditions.find((c) => c.type === 'Programmed'), { ...status.conditions.find((c) => c.type === 'Programmed'), status: 'False', reason: 'AddressNotAssigned' });
  assert.equal(status.addresses, undefined);
  addresses = [{ type: 'IPAddress', value: '203.0.113.7' }];
  store.apply('Gateway', 'MODIFIED', objects.get(path)!);
  await w.sync(computed);
  status = objects.get(path)!.status as S;
  assert.equal(status.conditions.find((c) => c.type === 'Programmed')!.status, 'True');
  assert.deepEqual(status.addresses, addresses);
  w.stop();
});

test('status writer: ListenerSet status is written whole (GEP-1713)', async () => {
  const path = '/apis/gateway.networking.k8s.io/v1/namespaces/team/listenersets/extra';
  const set: KubeObject = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ListenerSet', metadata: { name: 'extra', namespace: 'team', resourceVersion: '1', generation: 2 }, spec: {} };
  const objects = new Map([[path, set]]);
  const { client, calls } = fakeApi(objects);
  const store = createStore();
  store.apply('ListenerSet', 'ADDED', set);
  const w = createStatusWriter({ client, store, controllerName: CTRL, logger: createLogger('silent'), now: () => T0 });
  await w.sync([{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ListenerSet', namespace: 'team', name: 'extra', status: {
    conditions: [{ type: 'Accepted', status: 'False', reason: 'NotAllowed', message: 'no', observedGeneration: 2 }],
  } }]);
  assert.deepEqual(calls, [`PUT ${path}/status`]);
  const status = objects.get(path)!.status as { conditions: { reason: string; lastTransitionTime: string }[] };
  assert.equal(status.conditions[0]!.reason, 'NotAllowed');
  assert.equal(status.conditions[0]!.lastTransitionTime, '2025-01-01T00:00:00Z');
  w.stop();
});

test('status writer: the answer to a write never replaces a newer object the watch delivered meanwhile', async () => {
  const objects = new Map([[routePath, route('1')]]);
  const { client } = fakeApi(objects);
  const store = createStore();
  store.apply('HTTPRoute', 'ADDED', objects.get(routePath)!);
  // While our status write is in flight, a user's spec change lands after it and its watch
  // event reaches the store before the write's answer does.
  const edited = { ...route('3'), spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/new' } }] }] } };
  const racing: typeof client = {
    ...client,
    async request(method, path, options) {
      const res = await client.request(method, path, options);
      if (method === 'PUT') store.apply('HTTPRoute', 'MODIFIED', edited);
      return res;
    },
  };
  const w = createStatusWriter({ client: racing, store, controllerName: CTRL, logger: createLogger('silent'), now: () => T0 });
  await w.sync([ours('ok')]);
  const kept = store.get('HTTPRoute', 'default', 'web')!;
  assert.equal(kept.metadata?.resourceVersion, '3');
  assert.deepEqual(kept.spec, edited.spec, 'the spec change is not undone by the older object in the answer');
  w.stop();
});
