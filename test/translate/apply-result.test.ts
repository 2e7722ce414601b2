// withApplyResult: Programmed conditions and status.addresses from what the proxy applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translate, withApplyResult, type ObjectStatus } from '../../src/translate/index.ts';
import type { ApplyResult } from '../../src/ir/index.ts';
import { OPTIONS, parseResources } from './harness.ts';

const CERT = Buffer.from('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n').toString('base64');
const KEY = Buffer.from('-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n').toString('base64');
const input = parseResources(`
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: fluxgate}
spec: {controllerName: fluxgate.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default, generation: 7}
spec:
  gatewayClassName: fluxgate
  addresses: [{value: 127.0.0.2}]
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
  - {name: https, port: 8443, protocol: HTTPS, tls: {certificateRefs: [{name: tls}]}}
  - {name: sctp, port: 9000, protocol: SCTP}
---
apiVersion: v1
kind: Secret
metadata: {name: tls, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: ${CERT}, tls.key: ${KEY}}
`);

type Cond = { type: string; status: string; reason: string; message: string; observedGeneration?: number };
interface GwStatus { conditions: Cond[]; listeners: { name: string; conditions: Cond[] }[]; addresses?: { type: string; value: string }[] }

function gateway(statuses: readonly ObjectStatus[]): GwStatus {
  return statuses.find((s) => s.kind === 'Gateway')!.status as GwStatus;
}
function cond(list: Cond[], type: string): Cond {
  return list.find((c) => c.type === type)!;
}
function listener(s: GwStatus, name: string): Cond[] {
  return s.listeners.find((l) => l.name === name)!.conditions;
}

const { table, statuses } = translate(input, OPTIONS);

test('before an apply, Programmed is False/Pending (Invalid for listeners not in the table)', () => {
  const gw = gateway(statuses);
  assert.equal(cond(gw.conditions, 'Programmed').reason, 'Pending');
  assert.equal(cond(listener(gw, 'http'), 'Programmed').reason, 'Pending');
  assert.equal(cond(listener(gw, 'sctp'), 'Programmed').reason, 'Invalid');
  assert.equal(gw.addresses, undefined);
});

test('all sockets bound: Programmed=True, addresses from the bound sockets', () => {
  const applied: ApplyResult = { version: table.version, listeners: table.listeners.map((l) => ({ id: l.id, bound: true })) };
  const gw = gateway(withApplyResult(statuses, table, applied));
  assert.deepEqual(cond(gw.conditions, 'Programmed'), { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'Gateway is programmed', observedGeneration: 7 });
  assert.equal(cond(listener(gw, 'http'), 'Programmed').status, 'True');
  assert.equal(cond(listener(gw, 'https'), 'Programmed').status, 'True');
  assert.equal(cond(listener(gw, 'sctp'), 'Programmed').reason, 'Invalid');
  assert.deepEqual(gw.addresses, [{ type: 'IPAddress', value: '127.0.0.2' }]);
  // Conditions keep their order: Accepted, Conflicted, ResolvedRefs, Programmed.
  assert.deepEqual(listener(gw, 'http').map((c) => c.type), ['Accepted', 'Conflicted', 'ResolvedRefs', 'Programmed']);
});

test('a socket that failed to bind: PortUnavailable on its listener, the Gateway still Programmed by the other', () => {
  const applied: ApplyResult = { version: table.version, listeners: table.listeners.map((l) => l.port === 8080
    ? { id: l.id, bound: false, error: 'EADDRINUSE' } : { id: l.id, bound: true }) };
  const gw = gateway(withApplyResult(statuses, table, applied));
  assert.equal(cond(listener(gw, 'http'), 'Accepted').reason, 'PortUnavailable');
  assert.match(cond(listener(gw, 'http'), 'Programmed').message, /EADDRINUSE/);
  assert.equal(cond(gw.conditions, 'Programmed').status, 'True');
});

test('nothing bound: Gateway Programmed=False/AddressNotUsable with the errors', () => {
  const applied: ApplyResult = { version: table.version, listeners: table.listeners.map((l) => ({ id: l.id, bound: false, error: 'EACCES' })) };
  const gw = gateway(withApplyResult(statuses, table, applied));
  assert.equal(cond(gw.conditions, 'Programmed').reason, 'AddressNotUsable');
  assert.match(cond(gw.conditions, 'Programmed').message, /EACCES/);
  assert.equal(gw.addresses, undefined);
});

test('a certificate the proxy could not load: InvalidCertificateRef and not Programmed', () => {
  const applied: ApplyResult = { version: table.version, listeners: table.listeners.map((l) => ({
    id: l.id, bound: true, certificateErrors: l.port === 8443 ? [{ listenerId: 'listener/default/gw/https', message: 'bad PEM' }] : [] })) };
  const gw = gateway(withApplyResult(statuses, table, applied));
  assert.equal(cond(listener(gw, 'https'), 'ResolvedRefs').reason, 'InvalidCertificateRef');
  assert.equal(cond(listener(gw, 'https'), 'Programmed').status, 'False');
  assert.equal(cond(listener(gw, 'http'), 'Programmed').status, 'True');
});

test('an apply result for another table version keeps Programmed pending', () => {
  const applied: ApplyResult = { version: 'older', listeners: table.listeners.map((l) => ({ id: l.id, bound: true })) };
  const gw = gateway(withApplyResult(statuses, table, applied));
  assert.equal(cond(gw.conditions, 'Programmed').reason, 'Pending');
  assert.equal(cond(listener(gw, 'http'), 'Programmed').reason, 'Pending');
});

test('withApplyResult is pure: the input statuses are unchanged', () => {
  const before = JSON.stringify(statuses);
  withApplyResult(statuses, table, { version: table.version, listeners: [] });
  assert.equal(JSON.stringify(statuses), before);
});

// GatewayStaticAddresses: every spec.addresses IP is bound; one that cannot be is named.
const twoAddresses = parseResources(`
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: fluxgate}
spec: {controllerName: fluxgate.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default, generation: 2}
spec:
  gatewayClassName: fluxgate
  addresses: [{value: 192.0.2.1}, {type: IPAddress, value: 127.1.0.1}]
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
  - {name: admin, port: 9090, protocol: HTTP}
`);

test('static addresses: every listener is bound on every address', () => {
  const t = translate(twoAddresses, OPTIONS).table;
  assert.deepEqual(t.listeners.map((l) => l.id), ['port/127.1.0.1/8080', 'port/127.1.0.1/9090', 'port/192.0.2.1/8080', 'port/192.0.2.1/9090']);
});

test('static addresses: an address no socket could bind on makes the Gateway AddressNotUsable, naming it', () => {
  const r = translate(twoAddresses, OPTIONS);
  const applied: ApplyResult = { version: r.table.version, listeners: r.table.listeners.map((l) => l.address === '192.0.2.1'
    ? { id: l.id, bound: false, error: `listen EADDRNOTAVAIL: address not available ${l.address}:${l.port}` } : { id: l.id, bound: true }) };
  const gw = gateway(withApplyResult(r.statuses, r.table, applied));
  const programmed = cond(gw.conditions, 'Programmed');
  assert.equal(programmed.status, 'False');
  assert.equal(programmed.reason, 'AddressNotUsable');
  assert.match(programmed.message, /^192\.0\.2\.1 cannot be used: listen EADDRNOTAVAIL/);
  assert.doesNotMatch(programmed.message, /127\.1\.0\.1/);
  assert.equal(cond(gw.conditions, 'Accepted').status, 'True');
  // Only the address really bound is reported.
  assert.deepEqual(gw.addresses, [{ type: 'IPAddress', value: '127.1.0.1' }]);
  // The listener serves on the other address but is not fully programmed.
  assert.equal(cond(listener(gw, 'http'), 'Accepted').status, 'True');
  assert.equal(cond(listener(gw, 'http'), 'Programmed').status, 'False');
  assert.match(cond(listener(gw, 'http'), 'Programmed').message, /Serving on port\/127\.1\.0\.1\/8080 only: port\/192\.0\.2\.1\/8080 could not be bound/);
});

test('static addresses: all bound: Programmed=True with both addresses', () => {
  const r = translate(twoAddresses, OPTIONS);
  const applied: ApplyResult = { version: r.table.version, listeners: r.table.listeners.map((l) => ({ id: l.id, bound: true })) };
  const gw = gateway(withApplyResult(r.statuses, r.table, applied));
  assert.equal(cond(gw.conditions, 'Programmed').reason, 'Programmed');
  assert.deepEqual(gw.addresses, [{ type: 'IPAddress', value: '127.1.0.1' }, { type: 'IPAddress', value: '192.0.2.1' }]);
});

test('static addresses: a port taken on one address only leaves the address usable', () => {
  const r = translate(twoAddresses, OPTIONS);
  const applied: ApplyResult = { version: r.table.version, listeners: r.table.listeners.map((l) => l.id === 'port/192.0.2.1/9090'
    ? { id: l.id, bound: false, error: 'EADDRINUSE' } : { id: l.id, bound: true }) };
  const gw = gateway(withApplyResult(r.statuses, r.table, applied));
  assert.equal(cond(gw.conditions, 'Programmed').reason, 'Programmed');
  assert.equal(cond(listener(gw, 'admin'), 'Programmed').status, 'False');
  assert.equal(cond(listener(gw, 'http'), 'Programmed').status, 'True');
});
