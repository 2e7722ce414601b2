import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalAddressAllocator, hash32, isLoopbackIPv4, slotAddress } from '../../src/controller/local-addresses.ts';
import type { Gateway } from '../../src/translate/resources.ts';

const gw = (name: string, extra: Partial<Gateway> = {}): Gateway => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway',
  metadata: { name, namespace: 'default' }, spec: { gatewayClassName: 'fluxgate', listeners: [] }, ...extra,
}) as Gateway;

test('local addresses: deterministic from the name, in 127.0.1.1-127.0.254.254', () => {
  const a = createLocalAddressAllocator();
  const b = createLocalAddressAllocator();
  a.assign([gw('one'), gw('two')]);
  b.assign([gw('two'), gw('one')]);
  assert.equal(a.addressFor(gw('one')), b.addressFor(gw('one')));
  assert.notEqual(a.addressFor(gw('one')), a.addressFor(gw('two')));
  for (const name of ['one', 'two']) {
    const addr = a.addressFor(gw(name)) ?? '';
    assert.match(addr, /^127\.0\.(\d+)\.(\d+)$/);
    const [, x, y] = /^127\.0\.(\d+)\.(\d+)$/.exec(addr)!.map(Number);
    assert.ok(x! >= 1 && x! <= 254 && y! >= 1 && y! <= 254, addr);
  }
});

test('local addresses: a Gateway with static spec.addresses gets no automatic address (the translator binds them all)', () => {
  const a = createLocalAddressAllocator();
  const pinned = gw('pinned', { spec: { gatewayClassName: 'c', listeners: [], addresses: [{ type: 'IPAddress', value: '127.0.9.9' }] } } as Partial<Gateway>);
  // GatewayStaticAddresses: a non-loopback address is not swapped for a loopback one; binding
  // it fails and the Gateway says AddressNotUsable.
  const lb = gw('lb', { spec: { gatewayClassName: 'c', listeners: [], addresses: [{ value: '192.0.2.1' }, { value: '127.1.0.1' }] } } as Partial<Gateway>);
  a.assign([pinned, lb]);
  assert.equal(a.addressFor(pinned), undefined);
  assert.equal(a.addressFor(lb), undefined);
});

test('local addresses: an IPAddress without a value asks for an automatic address (GatewayAddressEmpty)', () => {
  const a = createLocalAddressAllocator();
  const g = gw('empty', { spec: { gatewayClassName: 'c', listeners: [], addresses: [{ type: 'IPAddress' }] } } as Partial<Gateway>);
  a.assign([g]);
  assert.ok(isLoopbackIPv4(a.addressFor(g)));
});

test('local addresses: a collision is resolved by probing, and the first holder keeps its address', () => {
  const a = createLocalAddressAllocator();
  const first = gw('first');
  const wanted = a.addressFor(first);
  // A Gateway that asked for exactly that address wins it; "first" moves on.
  const pinned = gw('pinned', { spec: { gatewayClassName: 'c', listeners: [], addresses: [{ value: wanted }] } } as Partial<Gateway>);
  a.assign([first, pinned]);
  assert.equal(a.addressFor(pinned), undefined);
  assert.equal(a.addressFor(first), slotAddress(hash32('default/first') + 1));
});

test('local addresses: stable while present, reused from status.addresses after a restart', () => {
  const a = createLocalAddressAllocator();
  a.assign([gw('x')]);
  const before = a.addressFor(gw('x'));
  a.assign([gw('x'), gw('y'), gw('z')]);
  assert.equal(a.addressFor(gw('x')), before);
  const restarted = createLocalAddressAllocator();
  const withStatus = { ...gw('x'), status: { addresses: [{ type: 'IPAddress', value: '127.0.200.7' }] } } as Gateway;
  restarted.assign([withStatus]);
  assert.equal(restarted.addressFor(withStatus), '127.0.200.7');
});

test('local addresses: the address of a deleted Gateway is freed', () => {
  const a = createLocalAddressAllocator();
  const wanted = slotAddress(hash32('default/late'));
  const squatter = { ...gw('squatter'), status: { addresses: [{ value: wanted }] } } as Gateway;
  a.assign([squatter]);
  a.assign([gw('late')]);
  assert.equal(a.addressFor(gw('late')), wanted);
});
