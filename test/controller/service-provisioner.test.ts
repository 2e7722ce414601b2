// The Service provisioner against a recording client: creates the Gateway's Service where the
// mode says, and deletes only Services this controller made for Gateways that are gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServiceProvisioner } from '../../src/controller/service-provisioner.ts';
import { createStore } from '../../src/controller/store.ts';
import type { KubeClient } from '../../src/controller/kube-client.ts';
import { createLogger } from '../../src/observability/index.ts';
import { emptyResources, type Resources } from '../../src/translate/resources.ts';

const CTRL = 'example.com/provisioner-test';

function recordingClient(): { client: KubeClient; calls: { method: string; path: string; body?: unknown }[] } {
  const calls: { method: string; path: string; body?: unknown }[] = [];
  const client = {
    server: 'https://127.0.0.1:1',
    async request(method: string, path: string, options?: { body?: unknown }) {
      calls.push({ method, path, ...(options?.body === undefined ? {} : { body: options.body }) });
      return { status: method === 'POST' ? 201 : 200, body: {} };
    },
    async watch() {
      throw new Error('not used');
    },
  } as unknown as KubeClient;
  return { client, calls };
}

function resources(gateways: object[]): Resources {
  return {
    ...emptyResources(),
    gatewayClasses: [{ metadata: { name: 'cls' }, spec: { controllerName: CTRL } }],
    gateways,
  } as unknown as Resources;
}

const gateway = {
  metadata: { name: 'web', namespace: 'shop' },
  spec: { gatewayClassName: 'cls', infrastructure: { labels: { key2: 'value2' }, annotations: { key1: 'value1' } }, listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }] },
};

function managed(ns: string, name: string, gatewayNs: string, controller?: string): object {
  return {
    metadata: {
      namespace: ns, name,
      labels: { 'app.kubernetes.io/managed-by': 'fluxgate', 'gateway.fluxgate.io/namespace': gatewayNs, 'gateway.fluxgate.io/name': 'gone' },
      annotations: controller === undefined ? {} : { 'gateway.fluxgate.io/controller-name': controller },
    },
  };
}

test('local mode: the Service is created in the Gateway namespace, marked with the controller', async () => {
  const { client, calls } = recordingClient();
  const store = createStore();
  const p = createServiceProvisioner({ client, store, controllerName: CTRL, logger: createLogger('silent'),
    options: { local: true, namespace: '', podSelector: {}, serviceType: 'ClusterIP' } });
  await p.sync(resources([gateway]));
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.method, 'POST');
  assert.equal(calls[0]!.path, '/api/v1/namespaces/shop/services');
  const body = calls[0]!.body as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
  assert.equal(body.metadata.labels['gateway.networking.k8s.io/gateway-name'], 'web');
  assert.equal(body.metadata.labels.key2, 'value2');
  assert.equal(body.metadata.annotations.key1, 'value1');
  assert.equal(body.metadata.annotations['gateway.fluxgate.io/controller-name'], CTRL);
});

test('local mode: only our own Services of gone Gateways are deleted, never another controller\'s', async () => {
  const { client, calls } = recordingClient();
  const store = createStore();
  store.replace('Service', [
    managed('a', 'gw-a-gone', 'a', CTRL) as never,
    managed('b', 'gw-b-gone', 'b', 'example.com/someone-else') as never,
    managed('c', 'gw-c-gone', 'c') as never,
    // Names a Gateway of another namespace: not one we would have made here.
    managed('d', 'gw-x-gone', 'x', CTRL) as never,
  ]);
  const p = createServiceProvisioner({ client, store, controllerName: CTRL, logger: createLogger('silent'),
    options: { local: true, namespace: '', podSelector: {}, serviceType: 'ClusterIP' } });
  await p.sync(resources([]));
  assert.deepEqual(calls.map((c) => `${c.method} ${c.path}`), ['DELETE /api/v1/namespaces/a/services/gw-a-gone']);
});

test('in-cluster mode: Services in FluxGate\'s namespace; unmarked ones (older versions) still cleaned up', async () => {
  const { client, calls } = recordingClient();
  const store = createStore();
  store.replace('Service', [managed('fluxgate-system', 'gw-a-gone', 'a') as never, managed('fluxgate-system', 'gw-b-gone', 'b', 'example.com/someone-else') as never]);
  const p = createServiceProvisioner({ client, store, controllerName: CTRL, logger: createLogger('silent'),
    options: { namespace: 'fluxgate-system', podSelector: { app: 'fluxgate' }, serviceType: 'LoadBalancer' } });
  await p.sync(resources([gateway]));
  assert.deepEqual(calls.map((c) => `${c.method} ${c.path}`), [
    'POST /api/v1/namespaces/fluxgate-system/services',
    'DELETE /api/v1/namespaces/fluxgate-system/services/gw-a-gone',
  ]);
});

test('the Service also exposes the listener ports of the ListenerSets the Gateway admits, not of refused ones', async () => {
  const { client, calls } = recordingClient();
  const store = createStore();
  const p = createServiceProvisioner({ client, store, controllerName: CTRL, logger: createLogger('silent'),
    options: { namespace: 'fluxgate-system', podSelector: { app: 'fluxgate' }, serviceType: 'LoadBalancer' } });
  const admitting = { ...gateway, spec: { ...gateway.spec, allowedListeners: { namespaces: { from: 'Same' } } } };
  const set = (ns: string, port: number): object => ({
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ListenerSet', metadata: { name: `set-${port}`, namespace: ns },
    spec: { parentRef: { name: 'web', namespace: 'shop' }, listeners: [{ name: 'l', port, protocol: port === 5353 ? 'UDP' : 'HTTPS' }] },
  });
  await p.sync({ ...resources([admitting]), listenerSets: [set('shop', 8443), set('shop', 5353), set('elsewhere', 9999)] } as unknown as Resources);
  const body = calls[0]!.body as { spec: { ports: { port: number; protocol: string }[] } };
  assert.deepEqual(body.spec.ports.map((x) => `${x.port}/${x.protocol}`), ['5353/UDP', '8080/TCP', '8443/TCP']);
});
