import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredGatewayService, gatewayServiceName, serviceAddresses, serviceUpdate } from '../../src/controller/gateway-services.ts';
import type { Gateway } from '../../src/translate/resources.ts';

const options = { namespace: 'fluxgate-system', podSelector: { 'app.kubernetes.io/name': 'fluxgate' }, serviceType: 'LoadBalancer' as const };
const gw = {
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'web', namespace: 'shop' },
  spec: {
    gatewayClassName: 'fluxgate',
    infrastructure: { labels: { team: 'shop', 'app.kubernetes.io/managed-by': 'someone-else' }, annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' } },
    listeners: [{ name: 'https', port: 443, protocol: 'HTTPS' }, { name: 'http', port: 80, protocol: 'HTTP' }, { name: 'http2', port: 80, protocol: 'HTTP', hostname: 'x.example' }],
  },
} as unknown as Gateway;

test('gateway Service: one per Gateway, infrastructure labels and annotations, one port per distinct listener port', () => {
  const svc = desiredGatewayService(gw, options) as { metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> }; spec: { type: string; selector: unknown; ports: { port: number; targetPort: number }[] } };
  assert.equal(svc.metadata.name, 'gw-shop-web');
  assert.equal(svc.metadata.namespace, 'fluxgate-system');
  assert.equal(svc.metadata.labels.team, 'shop');
  assert.equal(svc.metadata.labels['app.kubernetes.io/managed-by'], 'fluxgate', 'ours cannot be overridden');
  assert.equal(svc.metadata.labels['gateway.fluxgate.io/namespace'], 'shop');
  assert.equal(svc.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-type'], 'nlb');
  assert.deepEqual(svc.spec.ports.map((p) => [p.port, p.targetPort]), [[80, 80], [443, 443]]);
  assert.deepEqual(svc.spec.selector, { 'app.kubernetes.io/name': 'fluxgate' });
});

test('gateway Service: long names are shortened with a hash, within 63 characters and unique', () => {
  const a = gatewayServiceName('n'.repeat(40), 'g'.repeat(40));
  const b = gatewayServiceName('n'.repeat(40), `${'g'.repeat(39)}h`);
  assert.ok(a.length <= 63 && b.length <= 63);
  assert.notEqual(a, b);
});

test('gateway Service: no update when in sync; server-filled fields kept on update', () => {
  const desired = desiredGatewayService(gw, options);
  const existing = { ...desired, metadata: { ...desired.metadata, resourceVersion: '5' }, spec: { ...(desired.spec as object), clusterIP: '10.96.0.7', ports: (desired.spec as { ports: object[] }).ports.map((p, i) => ({ ...p, nodePort: 30000 + i })) } };
  assert.equal(serviceUpdate(existing, desired), undefined);
  const changed = desiredGatewayService({ ...gw, spec: { ...gw.spec, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } } as Gateway, options);
  const update = serviceUpdate(existing, changed) as { metadata: { resourceVersion: string }; spec: { clusterIP: string; ports: { port: number; nodePort?: number }[] } };
  assert.equal(update.metadata.resourceVersion, '5');
  assert.equal(update.spec.clusterIP, '10.96.0.7');
  assert.deepEqual(update.spec.ports.map((p) => [p.port, p.nodePort]), [[80, 30000]]);
});

test('gateway Service: addresses from load-balancer ingress, else the cluster IP (not for a pending LoadBalancer)', () => {
  assert.deepEqual(serviceAddresses({ spec: { type: 'LoadBalancer', clusterIP: '10.96.0.7' }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.5' }, { hostname: 'lb.example' }] } } }), [
    { type: 'IPAddress', value: '203.0.113.5' }, { type: 'Hostname', value: 'lb.example' },
  ]);
  assert.deepEqual(serviceAddresses({ spec: { type: 'LoadBalancer', clusterIP: '10.96.0.7' } }), []);
  assert.deepEqual(serviceAddresses({ spec: { type: 'ClusterIP', clusterIP: '10.96.0.7' } }), [{ type: 'IPAddress', value: '10.96.0.7' }]);
  assert.deepEqual(serviceAddresses(undefined), []);
});

test('gateway Service, local mode: headless and selector-less in the Gateway namespace, with infrastructure metadata and the gateway-name label', () => {
  const local = { local: true, namespace: '', podSelector: {}, serviceType: 'ClusterIP' as const };
  const svc = desiredGatewayService(gw, local) as { metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> }; spec: Record<string, unknown> };
  assert.equal(svc.metadata.namespace, 'shop');
  assert.equal(svc.metadata.name, 'gw-shop-web');
  // GatewayInfrastructureMetadata looks objects up by this label in the Gateway's namespace.
  assert.equal(svc.metadata.labels['gateway.networking.k8s.io/gateway-name'], 'web');
  assert.equal(svc.metadata.labels.team, 'shop');
  assert.equal(svc.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-type'], 'nlb');
  assert.equal(svc.spec.clusterIP, 'None');
  assert.equal(svc.spec.type, 'ClusterIP');
  assert.equal('selector' in svc.spec, false, 'no pods to select: FluxGate listens on the host');
  // In sync with itself as the API server returns it (no selector): no update.
  assert.equal(serviceUpdate({ ...svc, metadata: { ...svc.metadata, resourceVersion: '1' } }, svc), undefined);
  const relabelled = desiredGatewayService({ ...gw, spec: { ...gw.spec, infrastructure: { labels: { team: 'other' } } } } as Gateway, local);
  const update = serviceUpdate(svc, relabelled) as { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> };
  assert.equal(update.metadata.labels.team, 'other');
  assert.equal('selector' in update.spec, false);
});

test('gateway Service, in-cluster mode: also carries the gateway-name label', () => {
  const svc = desiredGatewayService(gw, options) as { metadata: { labels: Record<string, string> } };
  assert.equal(svc.metadata.labels['gateway.networking.k8s.io/gateway-name'], 'web');
});

test('gateway Service: listener ports of admitted ListenerSets are added', () => {
  const set = { spec: { parentRef: { name: 'web' }, listeners: [{ name: 'extra', port: 8443, protocol: 'HTTPS' }, { name: 'dup', port: 80, protocol: 'HTTP' }] } } as never;
  const svc = desiredGatewayService(gw, options, [set]) as { spec: { ports: { port: number }[] } };
  assert.deepEqual(svc.spec.ports.map((p) => p.port), [80, 443, 8443]);
});
