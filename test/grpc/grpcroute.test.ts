/**
 * GRPCRoute end to end: Gateway API YAML → translator → routing table → proxy → grpc-js
 * backends, with grpc-js clients. Exact and RegularExpression service/method matches, header
 * matches, listener hostnames, weights, and the RequestHeaderModifier, ResponseHeaderModifier
 * and RequestMirror filters.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createProxy, type Proxy } from '../../src/proxy/index.ts';
import { translate } from '../../src/translate/index.ts';
import { freePort, waitFor } from '../helpers/net.ts';
import { OPTIONS, parseResources } from '../translate/harness.ts';
import { echoClient, echoService, grpc, otherService, readAll, SERVICE, startGrpcBackend, unary, type EchoClient, type GrpcBackend } from './helpers.ts';

const backends: Record<string, GrpcBackend> = {};
let proxy: Proxy;
let client: EchoClient;
let otherHost: EchoClient;

function service(name: string, port: number): string {
  return `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  ports: [{name: grpc, port: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-1, namespace: default, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{name: grpc, port: ${port}}]
endpoints: [{addresses: [127.0.0.1]}]
---`;
}

before(async () => {
  const services = [echoService, otherService('fluxgate.test.Weighted'), otherService('fluxgate.test.Mirrored')];
  for (const name of ['v1', 'v2', 'v3']) backends[name] = await startGrpcBackend(name, services);
  const port = await freePort();
  const yaml = `
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
  addresses: [{type: IPAddress, value: 127.0.0.1}]
  listeners:
  - {name: grpc, port: ${port}, protocol: HTTP, hostname: grpc.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: echo, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [grpc.example.com]
  rules:
  - matches: [{method: {type: Exact, service: ${SERVICE}, method: Unary}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        add: [{name: x-added, value: by-route}]
        remove: [x-secret]
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{name: x-resp, value: from-gateway}]
    backendRefs: [{name: v1, port: 8080}]
  - matches: [{method: {type: RegularExpression, service: 'fluxgate\\.test\\.E.*', method: 'Server.*'}}]
    backendRefs: [{name: v2, port: 8080}]
  - matches:
    - method: {type: Exact, service: ${SERVICE}}
      headers: [{type: Exact, name: x-canary, value: 'yes'}]
    - method: {type: Exact, service: ${SERVICE}, method: Bidi}
      headers: [{type: RegularExpression, name: x-track, value: 'b[0-9]+'}]
    backendRefs: [{name: v3, port: 8080}]
  - matches: [{method: {service: fluxgate.test.Weighted}}]
    backendRefs: [{name: v1, port: 8080, weight: 1}, {name: v2, port: 8080, weight: 3}]
  - matches: [{method: {service: fluxgate.test.Mirrored, method: Unary}}]
    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: v3, port: 8080}}
    backendRefs: [{name: v1, port: 8080}]
---
${service('v1', backends.v1!.port)}
${service('v2', backends.v2!.port)}
${service('v3', backends.v3!.port)}
`;
  const result = translate(parseResources(yaml), OPTIONS);
  const route = result.statuses.find((s) => s.kind === 'GRPCRoute') as unknown as { status: { parents: { conditions: { type: string; status: string }[] }[] } };
  const conditions = route.status.parents[0]!.conditions.map((c) => `${c.type}=${c.status}`);
  assert.deepEqual(conditions, ['Accepted=True', 'ResolvedRefs=True']);
  proxy = createProxy({ limits: { drainTimeoutMs: 2000 } });
  const applied = await proxy.apply(result.table);
  assert.ok(applied.listeners.every((l) => l.bound), JSON.stringify(applied));
  client = echoClient(port, { authority: 'grpc.example.com' });
  otherHost = echoClient(port, { authority: 'other.example.com' });
});

after(async () => {
  client?.close();
  otherHost?.close();
  await proxy?.close();
  await Promise.all(Object.values(backends).map((b) => b.close()));
});

const md = (pairs: Record<string, string> = {}): grpc.Metadata => {
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(pairs)) m.set(k, v);
  return m;
};

test('exact service and method match, with request and response header filters', async () => {
  const r = await unary(client, `/${SERVICE}/Unary`, Buffer.from('hi'), md({ 'x-secret': 'drop-me' }));
  assert.equal(r.status.code, grpc.status.OK, r.status.details);
  assert.deepEqual(r.status.metadata.get('x-backend'), ['v1']);
  assert.deepEqual(r.headers?.get('x-resp'), ['from-gateway']);
  const seen = backends.v1!.calls.at(-1)!;
  assert.equal(seen.method, `/${SERVICE}/Unary`);
  assert.equal(seen.metadata['x-added'], 'by-route');
  assert.equal(seen.metadata['x-secret'], undefined);
});

test('RegularExpression service and method match', async () => {
  const { messages, status } = await readAll(client.ServerStream(Buffer.from('3:10'), md()));
  assert.equal(status.code, grpc.status.OK);
  assert.equal(messages.length, 3);
  assert.deepEqual(status.metadata.get('x-backend'), ['v2']);
});

test('header matches (Exact and RegularExpression) select their rule; without them no rule matches', async () => {
  const canary = await new Promise<Buffer>((resolve, reject) => {
    const call = client.ClientStream(md({ 'x-canary': 'yes' }), {}, (err, v) => (err ? reject(err) : resolve(v!)));
    call.write(Buffer.from('abc'));
    call.end();
  });
  assert.equal(canary.toString(), '1:3');
  assert.equal(backends.v3!.calls.at(-1)!.method, `/${SERVICE}/ClientStream`);

  const bidi = client.Bidi(md({ 'x-track': 'b42' }));
  const all = readAll(bidi);
  bidi.write(Buffer.from('x'));
  bidi.end();
  const { status } = await all;
  assert.equal(status.code, grpc.status.OK);
  assert.deepEqual(status.metadata.get('x-backend'), ['v3']);

  const none = await unary(client, `/${SERVICE}/ClientStream`, Buffer.from('x'), md({ 'x-canary': 'no' }));
  assert.equal(none.status.code, grpc.status.UNIMPLEMENTED);
  assert.match(none.status.details, /^NO_ROUTE/);
});

test('an unknown method and a host outside the listener hostname get UNIMPLEMENTED from the gateway', async () => {
  const r = await unary(client, `/${SERVICE}/Missing`, Buffer.from('x'));
  assert.equal(r.status.code, grpc.status.UNIMPLEMENTED);
  assert.match(r.status.details, /^NO_ROUTE/);
  const other = await unary(otherHost, `/${SERVICE}/Unary`, Buffer.from('x'));
  assert.equal(other.status.code, grpc.status.UNIMPLEMENTED);
});

test('weights split calls between backends (1:3)', async () => {
  const counts: Record<string, number> = {};
  const n = 400;
  const results = await Promise.all(Array.from({ length: n }, () => unary(client, '/fluxgate.test.Weighted/Unary', Buffer.from('w'))));
  for (const r of results) {
    assert.equal(r.status.code, grpc.status.OK);
    const b = String(r.status.metadata.get('x-backend')[0]);
    counts[b] = (counts[b] ?? 0) + 1;
  }
  // Expected 100 and 300; a binomial 5-sigma band keeps this from flaking.
  assert.ok(counts.v1! > 50 && counts.v1! < 150, JSON.stringify(counts));
  assert.equal(counts.v1! + counts.v2!, n);
});

test('RequestMirror sends a copy of the call to the mirror backend; the client gets the primary answer', async () => {
  const before = backends.v3!.calls.filter((c) => c.method === '/fluxgate.test.Mirrored/Unary').length;
  const r = await unary(client, '/fluxgate.test.Mirrored/Unary', Buffer.from('mirror me'));
  assert.equal(r.status.code, grpc.status.OK);
  assert.equal(r.value?.toString(), 'mirror me');
  assert.deepEqual(r.status.metadata.get('x-backend'), ['v1']);
  await waitFor(async () => backends.v3!.calls.filter((c) => c.method === '/fluxgate.test.Mirrored/Unary').length > before, 3000);
});
