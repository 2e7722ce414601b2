// The translator side of plugins: ExtensionRef and targetRefs attachment, GEP-713 precedence
// and status (Accepted / Conflicted / TargetNotFound / Invalid), fail-closed routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConfigLoader } from '../../src/standalone/index.ts';
import { join } from 'node:path';
import { translate } from '../../src/translate/index.ts';
import type { Filter, Route } from '../../src/ir/index.ts';
import { OPTIONS, parseResources } from '../translate/harness.ts';

const examplePath = join(import.meta.dirname, '..', '..', 'examples', 'rate-limit-tiers.yaml');
// Through the standalone loader, as `fluxgate serve` reads it (Secret stringData folded in).
const loaded = await createConfigLoader(examplePath).load();

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
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - name: main
    matches: [{path: {value: /a}}]
    backendRefs: [{name: web, port: 80}]
  - name: other
    matches: [{path: {value: /b}}]
    filters: [{type: ExtensionRef, extensionRef: {group: fluxgate.io, kind: TrafficPolicy, name: by-ref}}]
    backendRefs: [{name: web, port: 80}]
  - name: missing
    matches: [{path: {value: /c}}]
    filters: [{type: ExtensionRef, extensionRef: {group: fluxgate.io, kind: AuthPolicy, name: nope}}]
    backendRefs: [{name: web, port: 80}]
`;

function policy(kind: string, name: string, spec: string, created = '2024-01-01T00:00:00Z'): string {
  return `---\napiVersion: fluxgate.io/v1alpha1\nkind: ${kind}\nmetadata: {name: ${name}, namespace: default, creationTimestamp: "${created}"}\nspec:\n${spec}\n`;
}

function routes(yaml: string): Route[] {
  const { table } = translate(parseResources(yaml), OPTIONS);
  return table.listeners.flatMap((l) => l.virtualHosts.flatMap((v) => v.routes));
}

function plugins(r: Route | undefined): { kind: string; id: string; config: unknown }[] {
  return (r?.filters ?? []).flatMap((f: Filter) => (f.type === 'Plugin' ? [f.plugin] : []));
}

function statusOf(yaml: string, kind: string, name: string): Record<string, unknown> {
  const { statuses } = translate(parseResources(yaml), OPTIONS);
  const s = statuses.find((x) => x.kind === kind && x.name === name);
  assert.ok(s, `${kind} ${name} has a status`);
  return s.status as Record<string, unknown>;
}

test('example: key-auth first, then rate limits most specific first (rule+consumer > service)', () => {
  assert.deepEqual(loaded.errors, [], 'the example passes the CRD schemas');
  const { table, statuses } = translate(loaded.resources, OPTIONS);
  const rs = table.listeners.flatMap((l) => l.virtualHosts.flatMap((v) => v.routes));
  const get = rs.find((r) => r.id === 'httproute/demo/api/rule/1/match/0');
  const ps = plugins(get);
  assert.deepEqual(ps.map((p) => p.kind), ['key-auth', 'policy-select']);
  const cands = (ps[1]!.config as { candidates: { id: string; consumers?: string[]; config: { limits: unknown } }[] }).candidates;
  assert.deepEqual(cands.map((c) => [c.id, c.consumers ?? '*', c.config.limits]), [
    ['policy/demo/TrafficPolicy/fast-get/rateLimit@HTTPRoute/demo/api/get', ['fast_user'], [{ window: 'second', limit: 4 }]],
    ['policy/demo/TrafficPolicy/slow-get/rateLimit@HTTPRoute/demo/api/get', ['slow_user'], [{ window: 'second', limit: 2 }]],
    ['policy/demo/TrafficPolicy/service-default/rateLimit@HTTPRoute/demo/api', '*', [{ window: 'second', limit: 9 }]],
  ]);
  const post = plugins(rs.find((r) => r.id === 'httproute/demo/api/rule/2/match/0'))[1]!.config as { candidates: { id: string }[] };
  const put = plugins(rs.find((r) => r.id === 'httproute/demo/api/rule/3/match/0'))[1]!.config as { candidates: { id: string }[] };
  assert.notEqual(post.candidates[1]!.id, put.candidates[1]!.id, 'one policy on three rules: each rule counts on its own');
  for (const s of statuses.filter((x) => x.apiVersion === 'fluxgate.io/v1alpha1')) {
    assert.match(JSON.stringify(s.status), /"type":"Accepted","status":"True"/, `${s.kind} ${s.name}`);
  }
});

test('precedence ranks: rule > route+consumer > gateway+consumer > route > listener > gateway', () => {
  const t = (name: string, target: string, extra = '', created?: string) => policy('TrafficPolicy', name, `  targetRefs: [${target}]\n${extra}  rateLimit: {second: 1}`, created);
  const route = '{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}';
  const rule = '{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web, sectionName: main}';
  const gw = '{group: gateway.networking.k8s.io, kind: Gateway, name: gw}';
  const listener = '{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: http}';
  const consumer = policy('Consumer', 'alice', '  username: alice') .replace('fluxgate.io/v1alpha1\nkind: Consumer', 'fluxgate.io/v1alpha1\nkind: Consumer');
  const yaml = BASE + consumer +
    t('gateway', gw) + t('listener', listener) + t('route', route) +
    t('gateway-c', gw, '  consumerRefs: [{name: alice}]\n') + t('route-c', route, '  consumerRefs: [{name: alice}]\n');
  const ids = (y: string) => {
    const p = plugins(routes(y).find((r) => r.id === 'httproute/default/web/rule/0/match/0'))[0]!;
    return p.kind === 'policy-select' ? (p.config as { candidates: { id: string }[] }).candidates.map((c) => c.id.split('/')[3]) : [p.id.split('/')[3]];
  };
  assert.deepEqual(ids(yaml), ['route-c', 'gateway-c', 'route']);
  assert.deepEqual(ids(BASE + consumer + t('gateway', gw) + t('listener', listener)), ['listener']);
  assert.deepEqual(ids(yaml + t('rule', rule)), ['rule'], 'a rule policy for everyone ends the list');
});

test('GEP-713 status: Conflicted (newer loses), TargetNotFound, Invalid naming the field', () => {
  const route = '{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}';
  const yaml = BASE +
    policy('TrafficPolicy', 'older', `  targetRefs: [${route}]\n  rateLimit: {second: 5}`, '2024-01-01T00:00:00Z') +
    policy('TrafficPolicy', 'newer', `  targetRefs: [${route}]\n  rateLimit: {second: 50}`, '2024-02-01T00:00:00Z') +
    policy('TrafficPolicy', 'lost', '  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: ghost}]\n  rateLimit: {second: 1}');
  const newer = statusOf(yaml, 'TrafficPolicy', 'newer');
  assert.match(JSON.stringify(newer.ancestors), /"status":"False","reason":"Conflicted"/);
  assert.match(JSON.stringify(statusOf(yaml, 'TrafficPolicy', 'older').ancestors), /"status":"True","reason":"Accepted"/);
  assert.match(JSON.stringify(statusOf(yaml, 'TrafficPolicy', 'lost').ancestors), /"reason":"TargetNotFound","message":"spec.targetRefs\[0\]: HTTPRoute \\"ghost\\" not found"/);
  const p = plugins(routes(yaml).find((r) => r.id === 'httproute/default/web/rule/0/match/0'));
  assert.deepEqual(p.map((x) => x.id), ['policy/default/TrafficPolicy/older/rateLimit@HTTPRoute/default/web']);
});

test('invalid policy: Accepted=False naming the field; the routes using it say so and fail closed', () => {
  const yaml = BASE + policy('AuthPolicy', 'broken', '  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]\n  jwt: {jwksUri: "ftp://x"}');
  const s = statusOf(yaml, 'AuthPolicy', 'broken');
  assert.match(JSON.stringify(s), /"status":"False","reason":"Invalid","message":"spec.jwt.jwksUri: \\"ftp:\/\/x\\" is not an http\(s\) URL"/);
  const r = routes(yaml).find((x) => x.id === 'httproute/default/web/rule/0/match/0');
  assert.deepEqual(plugins(r).map((p) => p.kind), ['invalid'], 'the route stays and answers 500');
  const route = statusOf(yaml, 'HTTPRoute', 'web');
  assert.match(JSON.stringify(route), /"type":"ResolvedRefs","status":"False","reason":"InvalidPolicy","message":".*AuthPolicy default\/broken \(jwt\) is invalid; requests answer 500/);
});

test('ExtensionRef: a policy runs in place; a missing one fails closed with a condition', () => {
  const yaml = BASE + policy('TrafficPolicy', 'by-ref', '  ipRestriction: {allow: [10.0.0.0/8]}\n  rateLimit: {second: 3}');
  const rs = routes(yaml);
  assert.deepEqual(plugins(rs.find((r) => r.id === 'httproute/default/web/rule/1/match/0')).map((p) => p.kind), ['ip-restriction', 'rate-limit']);
  assert.deepEqual(plugins(rs.find((r) => r.id === 'httproute/default/web/rule/2/match/0')).map((p) => p.kind), ['invalid']);
  assert.match(JSON.stringify(statusOf(yaml, 'HTTPRoute', 'web')), /spec.rules\[2\].filters\[0\].extensionRef: AuthPolicy \\"nope\\" not found; requests answer 500/);
});

test('without plugins every fluxgate.io reference fails closed', () => {
  const yaml = BASE + policy('TrafficPolicy', 'by-ref', '  rateLimit: {second: 3}');
  const { table, statuses } = translate(parseResources(yaml), { ...OPTIONS, plugins: undefined });
  const r = table.listeners[0]!.virtualHosts[0]!.routes.find((x) => x.id === 'httproute/default/web/rule/1/match/0');
  assert.deepEqual(plugins(r).map((p) => p.kind), ['invalid']);
  assert.match(JSON.stringify(statuses.find((s) => s.name === 'by-ref')), /plugins are not enabled/);
});

test('Consumer with a missing Secret: ResolvedRefs=False naming the field', () => {
  const yaml = BASE + policy('Consumer', 'c', '  username: c\n  credentials: [{type: KeyAuth, secretRef: {name: gone}}]');
  assert.match(JSON.stringify(statusOf(yaml, 'Consumer', 'c')), /"ResolvedRefs","status":"False","reason":"InvalidCredentials","message":"spec.credentials\[0\].secretRef: Secret \\"gone\\" not found"/);
});
