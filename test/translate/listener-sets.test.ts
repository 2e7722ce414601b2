// ListenerSets (GEP-1713) beyond the golden cases: precedence by age over name, the cache
// across set changes, and admittedListenerSets (the ports the in-cluster Service exposes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admittedListenerSets, createTranslateCache, translate } from '../../src/translate/index.ts';
import type { Resources } from '../../src/translate/resources.ts';
import { OPTIONS, parseResources } from './harness.ts';

const BASE = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: fluxgate}
spec: {controllerName: fluxgate.io/gateway-controller}
---
apiVersion: v1
kind: Namespace
metadata: {name: picked, labels: {sets: "yes"}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: fluxgate
  allowedListeners: {namespaces: {from: All}}
  listeners: [{name: http, port: 80, protocol: HTTP, hostname: gw.example}]
`;

function set(ns: string, name: string, created: string, hostname: string, parent = 'gw'): string {
  return `---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: ${name}, namespace: ${ns}, creationTimestamp: "${created}"}
spec:
  parentRef: {name: ${parent}, namespace: infra}
  listeners: [{name: l, port: 80, protocol: HTTP, hostname: ${hostname}}]
`;
}

type Cond = { type: string; status: string; reason: string };
function setStatus(r: Resources, ns: string, name: string): { conditions: Cond[]; listeners?: { conditions: Cond[] }[] } {
  const s = translate(r, OPTIONS).statuses.find((x) => x.kind === 'ListenerSet' && x.namespace === ns && x.name === name);
  assert.ok(s, `status of ListenerSet ${ns}/${name}`);
  return s.status as { conditions: Cond[]; listeners?: { conditions: Cond[] }[] };
}

test('precedence: the older set keeps a contested hostname even when its name sorts later', () => {
  const r = parseResources(BASE + set('a', 'zzz-old', '2026-01-01T00:00:00Z', 'same.example') + set('a', 'aaa-new', '2026-02-01T00:00:00Z', 'same.example'));
  const old = setStatus(r, 'a', 'zzz-old');
  const young = setStatus(r, 'a', 'aaa-new');
  assert.equal(old.conditions.find((c) => c.type === 'Accepted')!.reason, 'Accepted');
  assert.deepEqual(young.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`), ['Accepted=False/ListenersNotValid', 'Programmed=False/ListenersNotValid']);
  assert.equal(young.listeners![0]!.conditions.find((c) => c.type === 'Conflicted')!.reason, 'HostnameConflict');
  // Same age: namespace/name decides.
  const tie = parseResources(BASE + set('a', 'zzz', '2026-01-01T00:00:00Z', 'same.example') + set('a', 'aaa', '2026-01-01T00:00:00Z', 'same.example'));
  assert.equal(setStatus(tie, 'a', 'aaa').conditions[0]!.status, 'True');
  assert.equal(setStatus(tie, 'a', 'zzz').conditions[0]!.status, 'False');
});

test('cache: adding, changing and removing sets gives the uncached result at every step', () => {
  const steps = [
    BASE,
    BASE + set('a', 'one', '2026-01-01T00:00:00Z', 'one.example'),
    BASE + set('a', 'one', '2026-01-01T00:00:00Z', 'gw.example'),
    BASE + set('a', 'one', '2026-01-01T00:00:00Z', 'one.example') + set('b', 'two', '2026-01-02T00:00:00Z', 'one.example'),
    BASE.replace('from: All', 'from: Same') + set('a', 'one', '2026-01-01T00:00:00Z', 'one.example'),
    BASE,
  ].map(parseResources);
  const cache = createTranslateCache();
  for (const [i, r] of steps.entries()) {
    assert.deepEqual(translate(r, { ...OPTIONS, cache }), translate(r, OPTIONS), `step ${i}`);
  }
});

test('admittedListenerSets: per Gateway of ours, only the sets its allowedListeners admit', () => {
  const sets = set('infra', 'same-ns', '', 'a.example') + set('picked', 'by-label', '', 'b.example') + set('other', 'refused', '', 'c.example')
    + set('infra', 'orphan', '', 'd.example', 'missing');
  const keys = (r: Resources): Record<string, string[]> => Object.fromEntries([...admittedListenerSets(r, OPTIONS.controllerName)]
    .map(([gw, list]) => [gw, list.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)]));
  assert.deepEqual(keys(parseResources(BASE + sets)), { 'infra/gw': ['infra/same-ns', 'other/refused', 'picked/by-label'] });
  assert.deepEqual(keys(parseResources(BASE.replace('from: All', 'from: Same') + sets)), { 'infra/gw': ['infra/same-ns'] });
  assert.deepEqual(keys(parseResources(BASE.replace('{from: All}', '{from: Selector, selector: {matchLabels: {sets: "yes"}}}') + sets)), { 'infra/gw': ['picked/by-label'] });
  assert.deepEqual(keys(parseResources(BASE.replace('  allowedListeners: {namespaces: {from: All}}\n', '') + sets)), {}, 'None by default');
  assert.deepEqual(admittedListenerSets(parseResources(BASE + sets), 'example.com/not-ours').size, 0);
});
