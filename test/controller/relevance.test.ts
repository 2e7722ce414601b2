import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore } from '../../src/controller/store.ts';
import type { KubeObject, Store } from '../../src/controller/store.ts';
import { createRelevance } from '../../src/controller/relevance.ts';

const CTRL = 'fluxgate.io/gateway-controller';
const GW = 'gateway.networking.k8s.io/v1';

function world(): { store: Store; relevant: (kind: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', o: KubeObject) => boolean } {
  const store = createStore();
  const relevance = createRelevance(store, CTRL);
  const relevant = (kind: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', o: KubeObject): boolean => {
    const c = store.apply(kind, type, o);
    return c !== undefined && relevance.isRelevant(c);
  };
  relevant('GatewayClass', 'ADDED', { apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'ours' }, spec: { controllerName: CTRL } });
  relevant('GatewayClass', 'ADDED', { apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'theirs' }, spec: { controllerName: 'example.com/other' } });
  relevant('Gateway', 'ADDED', gateway('gw', 'ours'));
  relevant('Gateway', 'ADDED', gateway('other-gw', 'theirs'));
  return { store, relevant };
}

function gateway(name: string, className: string, listeners: unknown[] = [{ name: 'http', port: 80, protocol: 'HTTP' }]): KubeObject {
  return { apiVersion: GW, kind: 'Gateway', metadata: { name, namespace: 'infra' }, spec: { gatewayClassName: className, listeners } };
}

function route(name: string, parent: string, backend: string, ns = 'apps'): KubeObject {
  return {
    apiVersion: GW, kind: 'HTTPRoute', metadata: { name, namespace: ns },
    spec: {
      parentRefs: [{ name: parent, namespace: 'infra' }],
      rules: [{ backendRefs: [{ name: backend, port: 80 }], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: `${backend}-mirror`, port: 80 } } }] }],
    },
  };
}

const svc = (name: string, ns = 'apps'): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { ports: [{ port: 80 }] } });
const slice = (svcName: string, ip: string): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name: `${svcName}-abc`, namespace: 'apps', labels: { 'kubernetes.io/service-name': svcName } },
  endpoints: [{ addresses: [ip] }],
});

test('relevance: GatewayClasses of other controllers are ignored, ours are not', () => {
  const { relevant } = world();
  assert.equal(relevant('GatewayClass', 'ADDED', { apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'x' }, spec: { controllerName: 'a/b' } }), false);
  assert.equal(relevant('GatewayClass', 'ADDED', { apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'y' }, spec: { controllerName: CTRL } }), true);
});

test('relevance: Gateways of other classes are ignored; moving one to our class or away from it is relevant', () => {
  const { relevant } = world();
  assert.equal(relevant('Gateway', 'ADDED', gateway('g2', 'theirs')), false);
  assert.equal(relevant('Gateway', 'MODIFIED', gateway('g2', 'ours')), true);
  assert.equal(relevant('Gateway', 'MODIFIED', gateway('g2', 'theirs')), true);
  assert.equal(relevant('Gateway', 'ADDED', gateway('g3', 'missing-class')), false);
});

test('relevance: routes matter only when attached to our Gateways (now or before)', () => {
  const { relevant } = world();
  assert.equal(relevant('HTTPRoute', 'ADDED', route('r1', 'other-gw', 'web')), false);
  assert.equal(relevant('HTTPRoute', 'ADDED', route('r2', 'gw', 'web')), true);
  assert.equal(relevant('HTTPRoute', 'MODIFIED', route('r2', 'other-gw', 'web')), true, 'leaving our Gateway');
  assert.equal(relevant('HTTPRoute', 'MODIFIED', { ...route('r2', 'other-gw', 'web'), spec: { parentRefs: [{ name: 'other-gw', namespace: 'infra' }] } }), false);
});

test('relevance: Services and their EndpointSlices matter only when our routes reference them', () => {
  const { relevant } = world();
  assert.equal(relevant('Service', 'ADDED', svc('web')), false);
  assert.equal(relevant('EndpointSlice', 'ADDED', slice('web', '10.244.0.5')), false);
  relevant('HTTPRoute', 'ADDED', route('r', 'gw', 'web'));
  assert.equal(relevant('EndpointSlice', 'MODIFIED', slice('web', '10.244.0.6')), true);
  assert.equal(relevant('Service', 'MODIFIED', { ...svc('web'), spec: { ports: [{ port: 8080 }] } }), true);
  assert.equal(relevant('Service', 'ADDED', svc('web-mirror')), true, 'mirror backendRef counts');
  assert.equal(relevant('Service', 'ADDED', svc('web', 'elsewhere')), false);
  assert.equal(relevant('EndpointSlice', 'ADDED', slice('unrelated', '10.244.0.9')), false);
});

test('relevance: Secrets matter only when our Gateways reference them', () => {
  const { relevant } = world();
  const secret = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'infra' }, data: { 'tls.crt': 'eA==' } });
  assert.equal(relevant('Secret', 'ADDED', secret('cert')), false);
  relevant('Gateway', 'MODIFIED', gateway('gw', 'ours', [{ name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'cert' }] } }]));
  assert.equal(relevant('Secret', 'MODIFIED', { ...secret('cert'), data: { 'tls.crt': 'eQ==' } }), true);
  assert.equal(relevant('Secret', 'ADDED', secret('unrelated')), false);
});

test('relevance: ReferenceGrants matter when they grant from a namespace we use', () => {
  const { relevant } = world();
  const grant = (from: string): KubeObject => ({ apiVersion: GW, kind: 'ReferenceGrant', metadata: { name: `g-${from}`, namespace: 'backends' }, spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: from }], to: [{ group: '', kind: 'Service' }] } });
  assert.equal(relevant('ReferenceGrant', 'ADDED', grant('apps')), false);
  relevant('HTTPRoute', 'ADDED', route('r', 'gw', 'web'));
  assert.equal(relevant('ReferenceGrant', 'MODIFIED', { ...grant('apps'), spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'apps' }], to: [] } }), true);
  assert.equal(relevant('ReferenceGrant', 'ADDED', grant('nobody')), false);
});

test('relevance: Namespace label changes matter only with a Selector listener', () => {
  const { relevant } = world();
  const ns = (labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps', labels } });
  assert.equal(relevant('Namespace', 'ADDED', ns({ a: '1' })), false);
  relevant('Gateway', 'MODIFIED', gateway('gw', 'ours', [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { a: '2' } } } } }]));
  assert.equal(relevant('Namespace', 'MODIFIED', ns({ a: '2' })), true);
  assert.equal(relevant('Namespace', 'MODIFIED', { ...ns({ a: '2' }), metadata: { name: 'apps', labels: { a: '2' }, annotations: { x: 'y' } } }), false);
});

test('relevance: ListenerSets, routes attached to them and the Secrets they use', () => {
  const { relevant } = world();
  const set = (hostname: string): KubeObject => ({
    apiVersion: GW, kind: 'ListenerSet', metadata: { name: 'team', namespace: 'team' },
    spec: { parentRef: { name: 'gw', namespace: 'infra' }, listeners: [{ name: 'https', port: 443, protocol: 'HTTPS', hostname, tls: { certificateRefs: [{ name: 'team-cert' }] } }] },
  });
  assert.equal(relevant('ListenerSet', 'ADDED', set('a.example')), true);
  const toSet: KubeObject = {
    apiVersion: GW, kind: 'HTTPRoute', metadata: { name: 'via-set', namespace: 'team' },
    spec: { parentRefs: [{ kind: 'ListenerSet', name: 'team' }], rules: [{ backendRefs: [{ name: 'team-svc', port: 80 }] }] },
  };
  assert.equal(relevant('HTTPRoute', 'ADDED', toSet), true, 'a route whose only parent is a ListenerSet');
  assert.equal(relevant('Secret', 'ADDED', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'team-cert', namespace: 'team' }, type: 'kubernetes.io/tls' }), true, "a ListenerSet's certificate");
  assert.equal(relevant('Secret', 'ADDED', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unrelated', namespace: 'team' }, type: 'kubernetes.io/tls' }), false);
});

test('relevance: namespace labels matter once a Gateway selects ListenerSet namespaces by label', () => {
  const { relevant } = world();
  const ns = (labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', labels } });
  relevant('Namespace', 'ADDED', ns({}));
  assert.equal(relevant('Namespace', 'MODIFIED', ns({ listeners: 'yes' })), false, 'no selector anywhere yet');
  const selecting = { ...gateway('gw', 'ours'), spec: { gatewayClassName: 'ours', listeners: [], allowedListeners: { namespaces: { from: 'Selector', selector: { matchLabels: { listeners: 'yes' } } } } } };
  relevant('Gateway', 'MODIFIED', selecting);
  assert.equal(relevant('Namespace', 'MODIFIED', ns({})), true);
});
