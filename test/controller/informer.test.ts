import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInformer } from '../../src/controller/informer.ts';
import type { KubeClient, KubeResponse } from '../../src/controller/kube-client.ts';
import { WATCHED_KINDS } from '../../src/controller/kinds.ts';
import type { KubeObject } from '../../src/controller/store.ts';
import { createLogger } from '../../src/observability/index.ts';

interface FakeWatch { query: Record<string, unknown>; event(type: string, o: unknown): void; end(err?: unknown): void; aborted: boolean }

function fakeClient(lists: (() => KubeResponse)[]) {
  const watches: FakeWatch[] = [];
  const listCalls: string[] = [];
  const client: KubeClient = {
    server: 'https://fake',
    async request(_method, path) {
      listCalls.push(path);
      const next = lists.shift();
      if (next === undefined) return { status: 500, body: { message: 'no more lists' } };
      return next();
    },
    async watch(_path, query, onEvent, done) {
      const w: FakeWatch = { query, aborted: false, event: (t, o) => onEvent(t, o), end: (err) => done(err ?? null) };
      watches.push(w);
      return { abort: () => { w.aborted = true; } };
    },
  };
  return { client, watches, listCalls };
}

const gateway = WATCHED_KINDS.find((k) => k.kind === 'Gateway')!;
const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });
const list = (rv: string, items: KubeObject[]) => (): KubeResponse => ({ status: 200, body: { metadata: { resourceVersion: rv }, items } });
const until = async (check: () => boolean, ms = 2000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
};

test('informer: lists, then watches from the list resourceVersion; events and bookmarks advance it', async () => {
  const { client, watches } = fakeClient([list('10', [obj('a', '9')])]);
  const replaced: string[][] = [];
  const events: string[] = [];
  const inf = createInformer({
    client, kind: gateway, logger: createLogger('silent'),
    handlers: { replace: (_k, items) => replaced.push(items.map((i) => String(i.metadata?.name))), event: (_k, t, o) => events.push(`${t}:${o.metadata?.name}`) },
  });
  inf.start();
  await until(() => watches.length === 1);
  assert.deepEqual(replaced, [['a']]);
  assert.equal(inf.synced(), true);
  assert.equal(watches[0]!.query.resourceVersion, '10');
  assert.equal(watches[0]!.query.allowWatchBookmarks, true);
  watches[0]!.event('ADDED', obj('b', '11'));
  watches[0]!.event('BOOKMARK', { metadata: { resourceVersion: '15' } });
  assert.deepEqual(events, ['ADDED:b']);
  assert.equal(inf.state().resourceVersion, '15');
  inf.stop();
});

test('informer: 410 Gone in the stream re-lists at once; other failures back off and resume the watch', async () => {
  const { client, watches, listCalls } = fakeClient([list('10', []), list('20', [obj('c', '19')])]);
  const replaced: number[] = [];
  const inf = createInformer({
    client, kind: gateway, logger: createLogger('silent'), backoff: { initialMs: 5, maxMs: 10 },
    handlers: { replace: (_k, items) => replaced.push(items.length), event: () => {} },
  });
  inf.start();
  await until(() => watches.length === 1);
  watches[0]!.event('ERROR', { kind: 'Status', code: 410, message: 'too old resource version' });
  await until(() => watches.length === 2);
  assert.equal(watches[0]!.aborted, true);
  assert.equal(listCalls.length, 2, 're-listed');
  assert.equal(watches[1]!.query.resourceVersion, '20');
  // A connection reset: no re-list, the watch resumes from where it was.
  watches[1]!.event('MODIFIED', obj('c', '21'));
  watches[1]!.end(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
  await until(() => watches.length === 3);
  assert.equal(listCalls.length, 2);
  assert.equal(watches[2]!.query.resourceVersion, '21');
  // A 403 on connect: backoff, then retry.
  watches[2]!.end(Object.assign(new Error('Forbidden'), { statusCode: 403 }));
  await until(() => watches.length === 4);
  assert.ok(inf.state().failures >= 1);
  assert.deepEqual(replaced, [0, 1]);
  inf.stop();
});

test('informer: a failed list is retried with backoff until it succeeds', async () => {
  const { client, watches, listCalls } = fakeClient([
    () => ({ status: 403, body: { message: 'forbidden' } }),
    () => { throw new Error('connect ECONNREFUSED'); },
    list('5', []),
  ]);
  const inf = createInformer({ client, kind: gateway, logger: createLogger('silent'), backoff: { initialMs: 5, maxMs: 10 }, handlers: { replace: () => {}, event: () => {} } });
  inf.start();
  assert.equal(inf.synced(), false);
  await until(() => watches.length === 1);
  assert.equal(listCalls.length, 3);
  assert.equal(inf.synced(), true);
  inf.stop();
});

test('informer: the watchdog restarts a watch that went silent', async () => {
  const { client, watches } = fakeClient([list('1', [])]);
  const inf = createInformer({ client, kind: gateway, logger: createLogger('silent'), watchdogMs: 50, backoff: { initialMs: 5, maxMs: 10 }, handlers: { replace: () => {}, event: () => {} } });
  inf.start();
  await until(() => watches.length === 1);
  await until(() => watches.length === 2, 3000);
  assert.equal(watches[0]!.aborted, true);
  assert.match(inf.state().lastError ?? '', /watchdog/);
  inf.stop();
});

test('informer: an idle watch that times out reconnects from the same resourceVersion without counting a failure', async () => {
  const { client, watches, listCalls } = fakeClient([list('7', [])]);
  const inf = createInformer({ client, kind: gateway, logger: createLogger('silent'), backoff: { initialMs: 5, maxMs: 10 }, handlers: { replace: () => {}, event: () => {} } });
  inf.start();
  await until(() => watches.length === 1);
  watches[0]!.event('MODIFIED', obj('a', '8'));
  watches[0]!.end(Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }));
  await until(() => watches.length === 2);
  assert.equal(watches[1]!.query.resourceVersion, '8');
  assert.equal(inf.state().failures, 0);
  assert.equal(listCalls.length, 1);
  inf.stop();
});

test('informer: a kind the API does not serve counts as synced and empty (the others still serve)', async () => {
  const refGrant = WATCHED_KINDS.find((k) => k.kind === 'ReferenceGrant')!;
  const { client, watches, listCalls } = fakeClient([
    () => ({ status: 404, body: { message: 'the server could not find the requested resource' } }),
    () => ({ status: 404, body: { message: 'the server could not find the requested resource' } }),
  ]);
  const replaced: number[] = [];
  const inf = createInformer({ client, kind: refGrant, logger: createLogger('silent'), handlers: { replace: (_k, items) => replaced.push(items.length), event: () => {} } });
  inf.start();
  await until(() => listCalls.length === 2);
  await until(() => inf.synced());
  assert.deepEqual(listCalls, ['/apis/gateway.networking.k8s.io/v1/referencegrants', '/apis/gateway.networking.k8s.io/v1beta1/referencegrants']);
  assert.deepEqual(replaced, [0]);
  assert.equal(watches.length, 0);
  assert.match(inf.state().lastError ?? '', /are the CRDs installed/);
  inf.stop();
});
