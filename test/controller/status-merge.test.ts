import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeOwnedStatus, mergeRouteStatus, stampConditions, statusEqual, kubeTime } from '../../src/controller/status-merge.ts';

const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-02T00:00:00Z';
const CTRL = 'fluxgate.io/gateway-controller';

test('lastTransitionTime: kept when status, reason and message are unchanged (even if observedGeneration moved)', () => {
  const existing = [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', observedGeneration: 1, lastTransitionTime: T0 }];
  const out = stampConditions([{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', observedGeneration: 2 }], existing, T1);
  assert.deepEqual(out, [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', observedGeneration: 2, lastTransitionTime: T0 }]);
});

test('lastTransitionTime: set to now when status, reason or message changed, or the condition is new', () => {
  const existing = [
    { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', lastTransitionTime: T0 },
    { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'ok', lastTransitionTime: T0 },
    { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'ok', lastTransitionTime: T0 },
  ];
  const out = stampConditions([
    { type: 'Accepted', status: 'False', reason: 'Accepted', message: 'ok' },
    { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'different' },
    { type: 'Programmed', status: 'True', reason: 'Other', message: 'ok' },
    { type: 'PartiallyInvalid', status: 'True', reason: 'UnsupportedValue', message: 'x' },
  ], existing, T1);
  assert.deepEqual(out.map((c) => c.lastTransitionTime), [T1, T1, T1, T1]);
});

test('Gateway status: listener conditions are stamped against the listener of the same name', () => {
  const existing = {
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', lastTransitionTime: T0 }],
    listeners: [{ name: 'http', attachedRoutes: 1, supportedKinds: [], conditions: [{ type: 'Programmed', status: 'True', reason: 'Programmed', message: 'ok', lastTransitionTime: T0 }] }],
  };
  const out = mergeOwnedStatus({
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok' }],
    listeners: [
      { name: 'http', attachedRoutes: 2, supportedKinds: [], conditions: [{ type: 'Programmed', status: 'True', reason: 'Programmed', message: 'ok' }] },
      { name: 'https', attachedRoutes: 0, supportedKinds: [], conditions: [{ type: 'Programmed', status: 'True', reason: 'Programmed', message: 'ok' }] },
    ],
  }, existing, T1);
  const listeners = out.listeners as { conditions: { lastTransitionTime: string }[] }[];
  assert.equal(listeners[0]!.conditions[0]!.lastTransitionTime, T0);
  assert.equal(listeners[1]!.conditions[0]!.lastTransitionTime, T1);
  assert.equal((out.conditions as { lastTransitionTime: string }[])[0]!.lastTransitionTime, T0);
});

test('route parents: other controllers\' entries are kept in place, ours replaced', () => {
  const theirs = { parentRef: { name: 'their-gw' }, controllerName: 'example.com/other', conditions: [{ type: 'Accepted', status: 'False', reason: 'X', message: 'theirs', lastTransitionTime: T0 }] };
  const existing = {
    parents: [
      { parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }, controllerName: CTRL, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', lastTransitionTime: T0 }] },
      theirs,
      { parentRef: { name: 'gone' }, controllerName: CTRL, conditions: [] },
    ],
  };
  const out = mergeRouteStatus([
    { parentRef: { name: 'gw' }, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok' }] },
    { parentRef: { name: 'gw2', sectionName: 'http' }, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok' }] },
  ], existing, CTRL, 'default', T1);
  const parents = out.parents as { parentRef: { name: string }; controllerName: string; conditions: { lastTransitionTime: string }[] }[];
  assert.deepEqual(parents.map((p) => `${p.controllerName}:${p.parentRef.name}`), ['example.com/other:their-gw', `${CTRL}:gw`, `${CTRL}:gw2`]);
  assert.equal(parents[0], theirs);
  assert.equal(parents[1]!.conditions[0]!.lastTransitionTime, T0, 'parentRef defaults matched: same entry');
  assert.equal(parents[2]!.conditions[0]!.lastTransitionTime, T1);
});

test('route parents: no desired parents removes only ours', () => {
  const out = mergeRouteStatus([], { parents: [{ parentRef: { name: 'a' }, controllerName: CTRL, conditions: [] }, { parentRef: { name: 'b' }, controllerName: 'x/y', conditions: [] }] }, CTRL, 'ns', T1);
  assert.deepEqual((out.parents as { controllerName: string }[]).map((p) => p.controllerName), ['x/y']);
  assert.deepEqual(mergeRouteStatus([], undefined, CTRL, 'ns', T1), { parents: [] });
});

test('statusEqual: ignores key order, nulls and server-filled parentRef/supportedKinds defaults', () => {
  assert.ok(statusEqual(
    { parents: [{ parentRef: { name: 'gw' }, controllerName: CTRL, conditions: [] }] },
    { parents: [{ controllerName: CTRL, conditions: [], parentRef: { kind: 'Gateway', name: 'gw', group: 'gateway.networking.k8s.io' } }] },
  ));
  assert.ok(statusEqual({ listeners: [{ supportedKinds: [{ kind: 'HTTPRoute' }] }], addresses: undefined }, { listeners: [{ supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] }] }));
  assert.ok(!statusEqual({ conditions: [{ type: 'A', status: 'True' }] }, { conditions: [{ type: 'A', status: 'False' }] }));
  assert.ok(!statusEqual({ parents: [{ parentRef: { name: 'gw', kind: 'Service', group: '' } }] }, { parents: [{ parentRef: { name: 'gw' } }] }));
});

test('kubeTime: RFC 3339, second precision', () => {
  assert.equal(kubeTime(Date.UTC(2025, 0, 2, 3, 4, 5, 678)), '2025-01-02T03:04:05Z');
});
