import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startController } from '../../src/controller/controller.ts';
import { WATCHED_KINDS } from '../../src/controller/kinds.ts';
import type { KubeClient, WatchEventHandler } from '../../src/controller/kube-client.ts';
import type { Pipeline, PipelineSnapshot } from '../../src/pipeline/index.ts';
import type { Resources } from '../../src/translate/resources.ts';
import { createLogger } from '../../src/observability/index.ts';

const CTRL = 'fluxgate.io/gateway-controller';

/** Lists answer from `initial` by collection path; watches stay open and can be fed events. */
function fakeApi(initial: Record<string, unknown[]>, listDelayMs: Record<string, number> = {}) {
  const watchers = new Map<string, WatchEventHandler>();
  const client: KubeClient = {
    server: 'https://fake',
    async request(method, path) {
      if (method !== 'GET') return { status: 200, body: {} };
      await new Promise((r) => setTimeout(r, listDelayMs[path] ?? 0));
      return { status: 200, body: { metadata: { resourceVersion: '1' }, items: initial[path] ?? [] } };
    },
    async watch(path, _q, onEvent) {
      watchers.set(path, onEvent);
      return { abort: () => watchers.delete(path) };
    },
  };
  return { client, watchers };
}

function fakePipeline() {
  const updates: Resources[] = [];
  const pipeline: Pipeline = {
    async update(resources) {
      updates.push(resources);
      return { statuses: [] } as PipelineSnapshot;
    },
    snapshot: () => ({ statuses: [] }),
    close: () => undefined,
  };
  return { pipeline, updates };
}

const until = async (check: () => boolean, ms = 3000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const GW = '/apis/gateway.networking.k8s.io/v1';

test('controller: the first build waits for every informer, even when the last list is irrelevant', async () => {
  const { client } = fakeApi({
    [`${GW}/gatewayclasses`]: [{ metadata: { name: 'fluxgate' }, spec: { controllerName: CTRL } }],
    '/api/v1/secrets': [{ metadata: { name: 'unrelated', namespace: 'x' } }],
  }, { '/api/v1/secrets': 100 });
  const { pipeline, updates } = fakePipeline();
  const c = startController({ client, pipeline, controllerName: CTRL, logger: createLogger('silent'), holdOffMs: 10, maxDelayMs: 50 });
  try {
    await c.ready();
    assert.equal(updates.length, 1);
    assert.equal(updates[0]!.secrets.length, 1, 'the snapshot holds the whole store');
    assert.equal(updates[0]!.gatewayClasses.length, 1);
  } finally {
    await c.stop();
  }
});

test('controller: relevant events rebuild (batched); irrelevant ones do not', async () => {
  const { client, watchers } = fakeApi({
    [`${GW}/gatewayclasses`]: [{ metadata: { name: 'fluxgate' }, spec: { controllerName: CTRL } }],
  });
  const { pipeline, updates } = fakePipeline();
  const c = startController({ client, pipeline, controllerName: CTRL, logger: createLogger('silent'), holdOffMs: 20, maxDelayMs: 100 });
  try {
    await c.ready();
    await until(() => watchers.size === WATCHED_KINDS.length);
    const gateways = watchers.get(`${GW}/gateways`)!;
    const services = watchers.get('/api/v1/services')!;
    services('ADDED', { metadata: { name: 'nobody-uses-me', namespace: 'a', resourceVersion: '2' } });
    gateways('ADDED', { metadata: { name: 'theirs', namespace: 'a', resourceVersion: '3' }, spec: { gatewayClassName: 'other' } });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(updates.length, 1, 'no rebuild for irrelevant changes');
    for (let i = 0; i < 5; i++) gateways('ADDED', { metadata: { name: `gw${i}`, namespace: 'a', resourceVersion: String(10 + i) }, spec: { gatewayClassName: 'fluxgate', listeners: [] } });
    await until(() => updates.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(updates.length, 2, 'five events, one rebuild');
    assert.equal(updates[1]!.gateways.length, 6);
    assert.equal(c.state().skippedChanges, 2);
  } finally {
    await c.stop();
  }
});
