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

test('spec.addresses: every IPAddress with a value is bound; one without a value asks for the default', () => {
  const gw = (addresses: unknown[]): string => `
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
  addresses: ${JSON.stringify(addresses)}
  listeners: [{name: http, port: 8080, protocol: HTTP}]
`;
  const ids = (addresses: unknown[], gatewayAddress?: () => string | undefined): string[] =>
    translate(parseResources(gw(addresses)), { ...OPTIONS, ...(gatewayAddress ? { gatewayAddress } : {}) }).table.listeners.map((l) => l.id);
  assert.deepEqual(ids([{ value: '10.0.0.7' }, { type: 'IPAddress', value: '10.0.0.8' }]), ['port/10.0.0.7/8080', 'port/10.0.0.8/8080']);
  // GatewayAddressEmpty: no failure, the default address (all interfaces, or the override).
  assert.deepEqual(ids([{ type: 'IPAddress' }]), ['port/*/8080']);
  assert.deepEqual(ids([{ type: 'IPAddress' }], () => '127.0.5.5'), ['port/127.0.5.5/8080']);
  assert.deepEqual(ids([{ type: 'IPAddress' }, { value: '10.0.0.7' }]), ['port/10.0.0.7/8080']);
  const accepted = translate(parseResources(gw([{ type: 'IPAddress' }])), OPTIONS).statuses.find((s) => s.kind === 'Gateway')!;
  assert.equal((accepted.status as { conditions: { type: string; status: string }[] }).conditions[0]!.status, 'True');
});
