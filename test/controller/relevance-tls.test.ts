// Relevance of the TLS validation kinds: a ConfigMap matters only when a Gateway of ours
// (frontend validation) or a BackendTLSPolicy references it; a BackendTLSPolicy only when it
// targets a Service our routes use, or still carries a status entry of ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore } from '../../src/controller/store.ts';
import type { KubeObject } from '../../src/controller/store.ts';
import { createRelevance } from '../../src/controller/relevance.ts';

const CTRL = 'fluxgate.io/gateway-controller';
const GW = 'gateway.networking.k8s.io/v1';

function world(): (kind: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', o: KubeObject) => boolean {
  const store = createStore();
  const relevance = createRelevance(store, CTRL);
  const relevant = (kind: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', o: KubeObject): boolean => {
    const c = store.apply(kind, type, o);
    return c !== undefined && relevance.isRelevant(c);
  };
  relevant('GatewayClass', 'ADDED', { apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'ours' }, spec: { controllerName: CTRL } });
  relevant('Gateway', 'ADDED', {
    apiVersion: GW, kind: 'Gateway', metadata: { name: 'gw', namespace: 'infra' },
    spec: {
      gatewayClassName: 'ours',
      listeners: [{ name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'tls' }] } }],
      tls: { frontend: { default: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'client-ca' }] } } } },
    },
  });
  relevant('HTTPRoute', 'ADDED', { apiVersion: GW, kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'apps' }, spec: { parentRefs: [{ name: 'gw', namespace: 'infra' }], rules: [{ backendRefs: [{ name: 'web', port: 443 }] }] } });
  return relevant;
}

const cm = (name: string, ns: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { 'ca.crt': 'x' } } as KubeObject);
const policy = (name: string, service: string, ca: string, status?: unknown): KubeObject => ({
  apiVersion: GW, kind: 'BackendTLSPolicy', metadata: { name, namespace: 'apps' },
  spec: { targetRefs: [{ group: '', kind: 'Service', name: service }], validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: ca }], hostname: 'web.example.com' } },
  ...(status === undefined ? {} : { status }),
} as KubeObject);

test('relevance: ConfigMaps named by our Gateways frontend validation are relevant; others are not', () => {
  const relevant = world();
  assert.equal(relevant('ConfigMap', 'ADDED', cm('client-ca', 'infra')), true);
  assert.equal(relevant('ConfigMap', 'MODIFIED', { ...cm('client-ca', 'infra'), data: { 'ca.crt': 'renewed' } } as KubeObject), true);
  assert.equal(relevant('ConfigMap', 'ADDED', cm('kube-root-ca.crt', 'infra')), false);
  assert.equal(relevant('ConfigMap', 'ADDED', cm('client-ca', 'elsewhere')), false);
});

test('relevance: BackendTLSPolicies on our Services and the ConfigMaps they name are relevant', () => {
  const relevant = world();
  assert.equal(relevant('BackendTLSPolicy', 'ADDED', policy('other', 'unused', 'other-ca')), false);
  assert.equal(relevant('ConfigMap', 'ADDED', cm('backend-ca', 'apps')), false, 'no policy names it yet');
  assert.equal(relevant('BackendTLSPolicy', 'ADDED', policy('web', 'web', 'backend-ca')), true);
  assert.equal(relevant('ConfigMap', 'MODIFIED', { ...cm('backend-ca', 'apps'), data: { 'ca.crt': 'y' } } as KubeObject), true, 'the CA a policy uses changed');
  assert.equal(relevant('BackendTLSPolicy', 'MODIFIED', policy('stale', 'unused', 'x', { ancestors: [{ controllerName: CTRL, ancestorRef: { name: 'gw' }, conditions: [] }] })), true, 'our stale status must be removed');
});
