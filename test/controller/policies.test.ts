// Controller side of fluxgate.io policies: which changes rebuild, how policy status is merged
// with other controllers' ancestors, and when the writer leaves a policy alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore } from '../../src/controller/store.ts';
import type { KubeObject } from '../../src/controller/store.ts';
import { createRelevance } from '../../src/controller/relevance.ts';
import { mergePolicyStatus, statusEqual } from '../../src/controller/status-merge.ts';
import { createStatusWriter } from '../../src/controller/status-writer.ts';
import type { KubeClient, KubeResponse } from '../../src/controller/kube-client.ts';
import { createLogger } from '../../src/observability/index.ts';

const CTRL = 'fluxgate.io/gateway-controller';
const OTHER = 'example.com/other';
const GW = 'gateway.networking.k8s.io/v1';
const FG = 'fluxgate.io/v1alpha1';
const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-01T00:01:00Z';

function world() {
  const store = createStore();
  const relevance = createRelevance(store, CTRL);
  const relevant = (kind: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', o: KubeObject): boolean => {
    const c = store.apply(kind, type, o);
    return c !== undefined && relevance.isRelevant(c);
  };
  relevant('GatewayClass', 'ADDED', { apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'ours' }, spec: { controllerName: CTRL } });
  relevant('Gateway', 'ADDED', { apiVersion: GW, kind: 'Gateway', metadata: { name: 'gw', namespace: 'apps' }, spec: { gatewayClassName: 'ours', listeners: [] } });
  return { store, relevance, relevant };
}

const policy = (name: string, ns: string, spec: unknown, status?: unknown): KubeObject =>
  ({ apiVersion: FG, kind: 'TrafficPolicy', metadata: { name, namespace: ns, generation: 1, resourceVersion: '1' }, spec, ...(status === undefined ? {} : { status }) });
const secret = (name: string, ns: string, v = 'a2V5'): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, data: { key: v } });

test('relevance: policies and Consumers in namespaces we serve rebuild; elsewhere they do not', () => {
  const { relevant, relevance } = world();
  assert.equal(relevance.servesNamespace('apps'), true);
  assert.equal(relevance.servesNamespace('elsewhere'), false);
  assert.equal(relevant('TrafficPolicy', 'ADDED', policy('p', 'apps', { rateLimit: {} })), true);
  assert.equal(relevant('TrafficPolicy', 'ADDED', policy('p', 'elsewhere', { rateLimit: {} })), false);
  assert.equal(relevant('AuthPolicy', 'ADDED', { apiVersion: FG, kind: 'AuthPolicy', metadata: { name: 'a', namespace: 'apps' }, spec: {} }), true);
  // A policy elsewhere that still carries our ancestor must rebuild, so the entry is removed.
  assert.equal(relevant('TrafficPolicy', 'MODIFIED', policy('q', 'elsewhere', { rateLimit: { x: 1 } }, { ancestors: [{ controllerName: CTRL }] })), true);
});

test('relevance: a credential Secret a Consumer of ours references rebuilds; an unreferenced one does not', () => {
  const { relevant } = world();
  relevant('Consumer', 'ADDED', { apiVersion: FG, kind: 'Consumer', metadata: { name: 'alice', namespace: 'apps' }, spec: { username: 'alice', credentials: [{ type: 'KeyAuth', secretRef: { name: 'alice-key' } }] } });
  relevant('AuthPolicy', 'ADDED', { apiVersion: FG, kind: 'AuthPolicy', metadata: { name: 'oidc', namespace: 'apps' }, spec: { oidc: { clientSecretRef: { name: 'oidc-client' } } } });
  relevant('Consumer', 'ADDED', { apiVersion: FG, kind: 'Consumer', metadata: { name: 'bob', namespace: 'elsewhere' }, spec: { username: 'bob', credentials: [{ type: 'KeyAuth', secretRef: { name: 'bob-key' } }] } });
  assert.equal(relevant('Secret', 'ADDED', secret('alice-key', 'apps')), true);
  assert.equal(relevant('Secret', 'MODIFIED', secret('alice-key', 'apps', 'b3RoZXI=')), true, 'a rotated key');
  assert.equal(relevant('Secret', 'ADDED', secret('oidc-client', 'apps')), true);
  assert.equal(relevant('Secret', 'ADDED', secret('unused', 'apps')), false);
  assert.equal(relevant('Secret', 'ADDED', secret('bob-key', 'elsewhere')), false, 'a namespace we do not serve');
});

const ancestor = (name: string, controllerName: string, message: string, ltt?: string) => ({
  ancestorRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'apps', name },
  controllerName,
  conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message, observedGeneration: 1, ...(ltt === undefined ? {} : { lastTransitionTime: ltt }) }],
});
const top = (status: string, ltt?: string) => [{ type: 'Accepted', status, reason: status === 'True' ? 'Accepted' : 'Invalid', message: 'm', observedGeneration: 1, ...(ltt === undefined ? {} : { lastTransitionTime: ltt }) }];

test('mergePolicyStatus: other controllers\' ancestors stay in place, ours are replaced, times kept when unchanged', () => {
  const existing = { conditions: top('True', T0), ancestors: [ancestor('theirs', OTHER, 'x', T0), ancestor('gw', CTRL, 'ok', T0), ancestor('gone', CTRL, 'ok', T0)] };
  const desired = { conditions: top('True'), ancestors: [ancestor('gw', CTRL, 'ok'), ancestor('new', CTRL, 'ok')] };
  const merged = mergePolicyStatus(desired, existing, CTRL, true, T1) as { ancestors: ReturnType<typeof ancestor>[]; conditions: { lastTransitionTime: string }[] };
  assert.deepEqual(merged.ancestors.map((a) => `${a.controllerName}:${a.ancestorRef.name}`), [`${OTHER}:theirs`, `${CTRL}:gw`, `${CTRL}:new`]);
  assert.equal(merged.ancestors[1]!.conditions[0]!.lastTransitionTime, T0, 'unchanged condition keeps its time');
  assert.equal(merged.ancestors[2]!.conditions[0]!.lastTransitionTime, T1);
  assert.equal(merged.conditions[0]!.lastTransitionTime, T0);
  assert.ok(statusEqual(mergePolicyStatus(desired, merged, CTRL, true, T1), merged), 'merging again changes nothing');
});

test('mergePolicyStatus: without withConditions the top-level conditions are left as they are', () => {
  const existing = { conditions: top('False', T0), ancestors: [ancestor('gw', CTRL, 'ok', T0)] };
  const merged = mergePolicyStatus({ conditions: top('True'), ancestors: [] }, existing, CTRL, false, T1);
  assert.deepEqual(merged.conditions, existing.conditions);
  assert.deepEqual(merged.ancestors, []);
});

/** PUTs to the status subresource succeed and are recorded. */
function fakeApi(objects: Map<string, KubeObject>) {
  const puts: string[] = [];
  let rv = 10;
  const client: KubeClient = {
    server: 'https://fake',
    async request(method, path, options): Promise<KubeResponse> {
      const key = path.replace(/\/status$/, '');
      const current = objects.get(key);
      if (current === undefined) return { status: 404, body: {} };
      if (method === 'GET') return { status: 200, body: current };
      puts.push(path);
      const next = { ...current, status: (options?.body as KubeObject).status, metadata: { ...current.metadata, resourceVersion: String(++rv) } };
      objects.set(key, next);
      return { status: 200, body: next };
    },
    watch: () => Promise.reject(new Error('not used')),
  };
  return { client, puts };
}

test('status writer: policy status goes to the fluxgate.io status subresource; namespaces we do not serve are left alone', async () => {
  const servedPath = '/apis/fluxgate.io/v1alpha1/namespaces/apps/trafficpolicies/p';
  const otherPath = '/apis/fluxgate.io/v1alpha1/namespaces/elsewhere/trafficpolicies/q';
  const stalePath = '/apis/fluxgate.io/v1alpha1/namespaces/elsewhere/trafficpolicies/stale';
  const objects = new Map<string, KubeObject>([
    [servedPath, policy('p', 'apps', {})],
    [otherPath, policy('q', 'elsewhere', {}, { conditions: top('True', T0) })],
    [stalePath, policy('stale', 'elsewhere', {}, { conditions: top('True', T0), ancestors: [ancestor('gw', CTRL, 'ok', T0), ancestor('x', OTHER, 'ok', T0)] })],
  ]);
  const { client, puts } = fakeApi(objects);
  const store = createStore();
  for (const o of objects.values()) store.apply('TrafficPolicy', 'ADDED', o);
  const w = createStatusWriter({ client, store, controllerName: CTRL, logger: createLogger('silent'), now: () => Date.parse(T1), servesNamespace: (ns) => ns === 'apps' });
  const st = (ns: string, name: string, status: unknown) => ({ apiVersion: FG, kind: 'TrafficPolicy', namespace: ns, name, status });
  await w.sync([
    st('apps', 'p', { conditions: top('True'), ancestors: [ancestor('gw', CTRL, 'ok')] }),
    st('elsewhere', 'q', { conditions: top('False'), ancestors: [] }),
    st('elsewhere', 'stale', { conditions: top('True'), ancestors: [] }),
  ]);
  assert.deepEqual(puts.sort(), [`${servedPath}/status`, `${stalePath}/status`]);
  const served = objects.get(servedPath)!.status as { ancestors: { controllerName: string }[]; conditions: unknown[] };
  assert.equal(served.ancestors[0]!.controllerName, CTRL);
  assert.equal(served.conditions.length, 1);
  const stale = objects.get(stalePath)!.status as { ancestors: { controllerName: string }[]; conditions: unknown };
  assert.deepEqual(stale.ancestors.map((a) => a.controllerName), [OTHER], 'our stale entry removed, theirs kept');
  assert.deepEqual(stale.conditions, top('True', T0), 'top-level conditions of a namespace we do not serve untouched');
  // The same statuses again: nothing to write (no rewrite loop on every rebuild).
  for (const [, o] of objects) store.apply('TrafficPolicy', 'MODIFIED', o);
  const writes = puts.length;
  await w.sync([
    st('apps', 'p', { conditions: top('True'), ancestors: [ancestor('gw', CTRL, 'ok')] }),
    st('elsewhere', 'q', { conditions: top('False'), ancestors: [] }),
    st('elsewhere', 'stale', { conditions: top('True'), ancestors: [] }),
  ]);
  assert.equal(puts.length, writes);
  w.stop();
});

test('missing fluxgate.io CRDs: the informer is synced and empty, says so once, and picks the CRD up when it appears', async () => {
  const { createInformer } = await import('../../src/controller/informer.ts');
  const { WATCHED_KINDS } = await import('../../src/controller/kinds.ts');
  const { pino } = await import('pino');
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  const kind = WATCHED_KINDS.find((k) => k.kind === 'TrafficPolicy')!;
  let served = false;
  let lists = 0;
  const client: KubeClient = {
    server: 'https://fake',
    async request() {
      lists++;
      if (!served) return { status: 404, body: { message: 'the server could not find the requested resource' } };
      return { status: 200, body: { metadata: { resourceVersion: '5' }, items: [{ metadata: { name: 'p', namespace: 'apps' } }] } };
    },
    // Once served, the watch runs until the CRD goes away; then it ends with 404.
    watch: async (_path, _q, _onEvent, done) => {
      const t = setInterval(() => {
        if (served) return;
        clearInterval(t);
        done(Object.assign(new Error('the server could not find the requested resource'), { statusCode: 404 }));
      }, 5);
      return { abort: () => clearInterval(t) };
    },
  };
  const replaced: number[] = [];
  const inf = createInformer({ client, kind, logger, notServedRetryMs: 5, handlers: { replace: (_k, items) => replaced.push(items.length), event: () => {} } });
  inf.start();
  try {
    const until = async (check: () => boolean): Promise<void> => {
      const deadline = Date.now() + 3000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error('condition not met');
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await until(() => lists >= 5);
    assert.ok(inf.synced());
    assert.deepEqual([...new Set(replaced)], [0], 'synced and empty');
    const loud = lines.filter((l) => l.level >= 30 && /TrafficPolicy/.test(l.msg));
    assert.equal(loud.length, 1, `one line at info or above, not one per retry: ${JSON.stringify(loud)}`);
    assert.equal(loud[0]!.level, 30, 'info, not a warning: a cluster without plugins is a normal setup');
    served = true;
    await until(() => replaced.at(-1) === 1);
    assert.deepEqual([...new Set(replaced)], [0, 1]);
    // The CRD removed again: its objects are gone from the store, whatever events were missed.
    served = false;
    await until(() => replaced.at(-1) === 0);
  } finally {
    inf.stop();
  }
});
