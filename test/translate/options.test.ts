// TranslateOptions: controllerName selects our classes, gatewayAddress overrides the bind address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translate } from '../../src/translate/index.ts';
import { OPTIONS, parseResources } from './harness.ts';

const input = parseResources(`
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: fluxgate}
spec: {controllerName: fluxgate.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: fluxgate
  addresses: [{value: 10.0.0.7}]
  listeners: [{name: http, port: 8080, protocol: HTTP}]
`);

test('gatewayAddress: undefined keeps the spec.addresses default', () => {
  const { table } = translate(input, { ...OPTIONS, gatewayAddress: () => undefined });
  assert.deepEqual(table.listeners.map((l) => l.id), ['port/10.0.0.7/8080']);
});

test('gatewayAddress: an IP or "" (all interfaces) overrides spec.addresses', () => {
  assert.deepEqual(translate(input, { ...OPTIONS, gatewayAddress: () => '127.0.0.1' }).table.listeners.map((l) => l.id), ['port/127.0.0.1/8080']);
  const all = translate(input, { ...OPTIONS, gatewayAddress: (g) => (g.metadata?.name === 'gw' ? '' : undefined) }).table;
  assert.deepEqual(all.listeners.map((l) => [l.id, l.address]), [['port/*/8080', '']]);
});

test('controllerName: another controller name makes nothing ours', () => {
  const { table, statuses } = translate(input, { ...OPTIONS, controllerName: 'example.com/other' });
  assert.deepEqual(statuses, []);
  assert.deepEqual(table.listeners, []);
});

test('version is the sha256 of the table content and changes with it', () => {
  const a = translate(input, OPTIONS).table;
  const b = translate(input, { ...OPTIONS, gatewayAddress: () => '127.0.0.1' }).table;
  assert.match(a.version, /^[0-9a-f]{64}$/);
  assert.notEqual(a.version, b.version);
  assert.equal(translate(input, OPTIONS).table.version, a.version);
});
