import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore } from '../../src/controller/store.ts';

const route = (name: string, rv: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute',
  metadata: { name, namespace: 'default', resourceVersion: rv, managedFields: [{ manager: 'kubectl' }] },
  spec: { parentRefs: [{ name: 'gw' }] },
  ...extra,
});

test('store: an add is a change, keyed by kind/namespace/name', () => {
  const store = createStore();
  const c = store.apply('HTTPRoute', 'ADDED', route('a', '1'));
  assert.equal(c?.key, 'HTTPRoute/default/a');
  assert.equal(c?.old, undefined);
  assert.equal(store.get('HTTPRoute', 'default', 'a')?.metadata?.resourceVersion, '1');
});

test('store: a status-only or resourceVersion-only update is not a change, but the newest object is kept', () => {
  const store = createStore();
  store.apply('HTTPRoute', 'ADDED', route('a', '1'));
  const gen = store.generation();
  assert.equal(store.apply('HTTPRoute', 'MODIFIED', route('a', '2', { status: { parents: [] } })), undefined);
  assert.equal(store.generation(), gen);
  assert.deepEqual(store.get('HTTPRoute', 'default', 'a')?.status, { parents: [] });
  assert.equal(store.get('HTTPRoute', 'default', 'a')?.metadata?.resourceVersion, '2');
});

test('store: a spec update is a change with old and new', () => {
  const store = createStore();
  store.apply('HTTPRoute', 'ADDED', route('a', '1'));
  const c = store.apply('HTTPRoute', 'MODIFIED', { ...route('a', '2'), spec: { parentRefs: [{ name: 'other' }] } });
  assert.ok(c);
  assert.deepEqual((c.old?.spec as { parentRefs: unknown }).parentRefs, [{ name: 'gw' }]);
});

test('store: managedFields and the last-applied annotation are dropped', () => {
  const store = createStore();
  store.apply('HTTPRoute', 'ADDED', { ...route('a', '1'), metadata: { ...route('a', '1').metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' } } });
  const o = store.get('HTTPRoute', 'default', 'a');
  assert.equal(o?.metadata?.managedFields, undefined);
  assert.deepEqual(o?.metadata?.annotations, { keep: 'me' });
});

test('store: delete of an unknown object is not a change', () => {
  const store = createStore();
  assert.equal(store.apply('HTTPRoute', 'DELETED', route('a', '1')), undefined);
});

test('store: replace reports adds, changes and deletions, and nothing for identical items', () => {
  const store = createStore();
  store.replace('HTTPRoute', [route('a', '1'), route('b', '1')]);
  const changes = store.replace('HTTPRoute', [route('a', '5'), { ...route('c', '1') }]);
  assert.deepEqual(changes.map((c) => [c.key, c.old !== undefined, c.new !== undefined]), [
    ['HTTPRoute/default/c', false, true],
    ['HTTPRoute/default/b', true, false],
  ]);
});

test('store: snapshot is sorted by namespace then name and cached until a change', () => {
  const store = createStore();
  store.apply('HTTPRoute', 'ADDED', { ...route('b', '1'), metadata: { name: 'b', namespace: 'z' } });
  store.apply('HTTPRoute', 'ADDED', route('c', '1'));
  store.apply('HTTPRoute', 'ADDED', route('a', '1'));
  const s1 = store.snapshot();
  assert.deepEqual(s1.httpRoutes.map((r) => `${r.metadata?.namespace}/${r.metadata?.name}`), ['default/a', 'default/c', 'z/b']);
  assert.equal(store.snapshot(), s1);
  store.apply('HTTPRoute', 'DELETED', route('a', '2'));
  assert.notEqual(store.snapshot(), s1);
  assert.equal(store.snapshot().gateways.length, 0);
});
