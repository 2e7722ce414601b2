// TrafficPolicy spec.healthCheck: validation (fields named), and the translator putting it on
// the IR Backends of the targeted routes (not on their filters).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateHealthCheck } from '../../src/plugins/health-check/validate.ts';
import { translate } from '../../src/translate/index.ts';
import { OPTIONS, parseResources } from '../translate/harness.ts';

const ctx = { field: 'spec.healthCheck', namespace: 'default', consumers: [], secret: () => undefined };

test('validateHealthCheck: defaults, durations, status codes and ranges', () => {
  assert.deepEqual(validateHealthCheck({ active: {} }, ctx), {
    ok: true, config: { path: '/', intervalMs: 5000, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 3, expectedStatuses: [{ min: 200, max: 399 }] },
  });
  assert.deepEqual(validateHealthCheck({ active: { path: '/healthz', host: 'svc.local', interval: '1m30s', timeout: '250ms', healthyThreshold: 1, unhealthyThreshold: 5, expectedStatuses: ['300-302', 200] } }, ctx), {
    ok: true, config: { path: '/healthz', host: 'svc.local', intervalMs: 90_000, timeoutMs: 250, healthyThreshold: 1, unhealthyThreshold: 5, expectedStatuses: [{ min: 200, max: 200 }, { min: 300, max: 302 }] },
  });
});

test('validateHealthCheck: every problem names its field', () => {
  const cases: [unknown, string][] = [
    [{}, 'spec.healthCheck.active'],
    [{ active: {}, passive: {} }, 'spec.healthCheck.passive'],
    [{ active: { path: 'healthz' } }, 'spec.healthCheck.active.path'],
    [{ active: { interval: '5 s' } }, 'spec.healthCheck.active.interval'],
    [{ active: { interval: '10ms' } }, 'spec.healthCheck.active.interval'],
    [{ active: { timeout: '2m' } }, 'spec.healthCheck.active.timeout'],
    [{ active: { healthyThreshold: 0 } }, 'spec.healthCheck.active.healthyThreshold'],
    [{ active: { expectedStatuses: ['299-200'] } }, 'spec.healthCheck.active.expectedStatuses[0]'],
    [{ active: { expectedStatuses: [200, 700] } }, 'spec.healthCheck.active.expectedStatuses[1]'],
    [{ active: { expectedStatuses: [] } }, 'spec.healthCheck.active.expectedStatuses'],
    [{ active: { host: 'a b' } }, 'spec.healthCheck.active.host'],
    [{ active: { port: 81 } }, 'spec.healthCheck.active.port'],
  ];
  for (const [raw, field] of cases) {
    const r = validateHealthCheck(raw, ctx);
    assert.equal(r.ok, false, JSON.stringify(raw));
    if (!r.ok) assert.deepEqual(r.errors.map((e) => e.field), [field], JSON.stringify(raw));
  }
});

const BASE = `
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
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: default}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - name: main
    matches: [{path: {value: /a}}]
    backendRefs: [{name: web, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {value: /b}}]
    filters: [{type: ExtensionRef, extensionRef: {group: fluxgate.io, kind: TrafficPolicy, name: hc}}]
    backendRefs: [{name: other, port: 80}]
`;

const HC = `
apiVersion: fluxgate.io/v1alpha1
kind: TrafficPolicy
metadata: {name: hc, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]
  healthCheck:
    active: {path: /healthz, interval: 2s}
`;

function run(extra: string) {
  const { table, statuses } = translate(parseResources(`${BASE}---${extra}`), OPTIONS);
  const routes = table.listeners.flatMap((l) => l.virtualHosts.flatMap((v) => v.routes));
  const policy = statuses.find((s) => s.kind === 'TrafficPolicy');
  return { table, routes, policy: policy?.status as { conditions: { status: string; reason: string; message: string }[] } | undefined };
}

test('translate: a healthCheck policy configures the backends of its target, not their filters', () => {
  const { table, routes, policy } = run(HC);
  assert.equal(policy?.conditions[0]?.status, 'True');
  const web = table.backends.find((b) => b.id === 'backend/default/web/80');
  assert.deepEqual(web?.healthCheck, {
    id: 'policy/default/TrafficPolicy/hc/healthCheck@HTTPRoute/default/web', path: '/healthz', intervalMs: 2000, timeoutMs: 1000,
    healthyThreshold: 2, unhealthyThreshold: 3, expectedStatuses: [{ min: 200, max: 399 }],
  });
  // Through ExtensionRef it has nothing to do: no filter, no check on that route's backend.
  assert.equal(table.backends.find((b) => b.id === 'backend/default/other/80')?.healthCheck, undefined);
  for (const r of routes) assert.deepEqual(r.filters, [], r.id);
});

test('translate: an invalid healthCheck is a condition naming the field; the backend is used without checks', () => {
  const { table, routes, policy } = run(HC.replace('interval: 2s', 'interval: 2 s'));
  assert.equal(policy?.conditions[0]?.status, 'False');
  assert.match(policy?.conditions[0]?.message ?? '', /spec\.healthCheck\.active\.interval/);
  assert.equal(table.backends.find((b) => b.id === 'backend/default/web/80')?.healthCheck, undefined);
  // The targeted route serves (health checks only ever take endpoints out); an ExtensionRef to
  // the invalid policy still fails closed, as every unresolvable ExtensionRef does.
  assert.deepEqual(routes.find((r) => r.id.startsWith('httproute/default/web/'))?.filters, []);
  assert.equal(routes.find((r) => r.id.startsWith('httproute/default/other/'))?.filters[0]?.type, 'Plugin');
});

test('translate: healthCheck cannot be scoped to consumers', () => {
  const { policy } = run(HC.replace('  healthCheck:', '  consumerRefs: [{name: alice}]\n  healthCheck:'));
  assert.equal(policy?.conditions[0]?.status, 'False');
  assert.match(policy?.conditions[0]?.message ?? '', /spec\.healthCheck: not allowed together with consumerRefs/);
});
