/**
 * Errors FluxGate makes itself, as a @grpc/grpc-js client sees them: HTTP 200 Trailers-Only
 * answers with the mapped grpc-status and a readable grpc-message, for every proxy-made error
 * (no route, no endpoints, invalid backend, upstream down, timeouts, rate limit, auth), and the
 * client's grpc-timeout honoured by the proxy as a deadline of its own.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Filter, Route } from '../../src/ir/index.ts';
import { BUILTIN_PLUGINS, createPluginRuntime, type Plugin } from '../../src/plugins/index.ts';
import { validateRateLimit } from '../../src/plugins/rate-limit/validate.ts';
import type { Proxy } from '../../src/proxy/index.ts';
import { freePort } from '../helpers/net.ts';
import { backend, listener, match, ref, route, startProxy, table, vhost } from '../proxy/helpers.ts';
import { echoClient, echoService, grpc, method, SERVICE, startGrpcBackend, unary, type EchoClient, type GrpcBackend } from './helpers.ts';

/** Answers the status in its config, as an authentication plugin would. */
const denyPlugin: Plugin = {
  kind: 'test-deny',
  priority: 0,
  validate: (config) => ({ ok: true, config }),
  create(config) {
    const c = config as { status: number; code: string };
    return { onRequest: () => ({ status: c.status, code: c.code, message: `denied with ${c.status}` }) };
  },
};
const deny = (status: number, code: string): Filter => ({ type: 'Plugin', plugin: { kind: 'test-deny', id: `plugin/deny-${status}`, config: { status, code } } });

let be: GrpcBackend;
let proxy: Proxy;
let port: number;
let client: EchoClient;
let stallServer: Http2Server;
const stalled: ServerHttp2Stream[] = [];

/** A route for one method of the test service. */
function methodRoute(id: string, method: string, backendId: string | null, filters: Filter[] = [], extra: Partial<Route> = {}): Route {
  const refs = backendId === null ? [] : [ref(backendId)];
  return route(id, match(`/${SERVICE}/${method}`, 'Exact'), refs, filters, extra);
}

before(async () => {
  // A backend that reads the call and never ends it (deadlines are the proxy's to enforce).
  stallServer = createServer();
  stallServer.on('stream', (stream, headers) => {
    stalled.push(stream);
    stream.on('error', () => {});
    if (headers[':path'] === '/stall.Service/Head') stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.resume();
  });
  await new Promise<void>((r) => stallServer.listen(0, '127.0.0.1', r));
  const stallPort = (stallServer.address() as AddressInfo).port;
  // The echo service plus unary methods that only some routes lead to.
  be = await startGrpcBackend('be', [{ ...echoService, Slow: method('Slow', false, false), Limited: method('Limited', false, false), Secret: method('Secret', false, false), Forbidden: method('Forbidden', false, false) }]);
  const rl = validateRateLimit({ second: 2, limitBy: 'route', policy: 'local' }, { field: 'spec.rateLimit', namespace: 'default', consumers: [], secret: () => undefined });
  assert.ok(rl.ok, JSON.stringify(rl));
  const rateLimit: Filter = { type: 'Plugin', plugin: { kind: 'rate-limit', id: 'policy/default/TrafficPolicy/grpc/rateLimit', config: rl.config } };
  const routes = [
    // Exact method paths; everything else of the host has no route (404).
    methodRoute('ok', 'Unary', 'backend/grpc'),
    methodRoute('no-endpoints', 'ServerStream', 'backend/empty'),
    route('invalid', match(`/${SERVICE}/ClientStream`, 'Exact'), [{ kind: 'invalid', weight: 1, status: 500, code: 'BACKEND_NOT_FOUND' }]),
    methodRoute('down', 'Bidi', 'backend/down'),
    methodRoute('timeout', 'Slow', 'backend/grpc', [], { timeouts: { requestMs: 200 } }),
    methodRoute('limited', 'Limited', 'backend/grpc', [rateLimit]),
    methodRoute('unauthenticated', 'Secret', 'backend/grpc', [deny(401, 'UNAUTHORIZED')]),
    methodRoute('forbidden', 'Forbidden', 'backend/grpc', [deny(403, 'FORBIDDEN')]),
    route('stall', match('/stall.Service/', 'PathPrefix'), [ref('backend/stall')]),
  ];
  const t = table(
    [listener([vhost('*', routes)])],
    [backend('backend/grpc', [be.port], 'h2c'), backend('backend/empty', [], 'h2c'), backend('backend/down', [await freePort()], 'h2c'), backend('backend/stall', [stallPort], 'h2c')],
  );
  ({ proxy, port } = await startProxy(t, { plugins: createPluginRuntime({ plugins: [denyPlugin, ...BUILTIN_PLUGINS] }) }));
  client = echoClient(port);
});

after(async () => {
  client?.close();
  await proxy?.close();
  await be?.close();
  stallServer?.close();
});

const call = (method: string, body = 'x', opts: grpc.CallOptions = {}): ReturnType<typeof unary> => unary(client, `/${SERVICE}/${method}`, Buffer.from(body), new grpc.Metadata(), opts);

test('proxy-made errors reach grpc-js clients as gRPC statuses with a message', async () => {
  const cases: [string, number, RegExp][] = [
    ['Nope', grpc.status.UNIMPLEMENTED, /^NO_ROUTE: /],
    ['ServerStream', grpc.status.UNAVAILABLE, /^NO_ENDPOINTS: /],
    ['ClientStream', grpc.status.INTERNAL, /^BACKEND_NOT_FOUND: /],
    ['Bidi', grpc.status.UNAVAILABLE, /^UPSTREAM_CONNECT: /],
    ['Secret', grpc.status.UNAUTHENTICATED, /^UNAUTHORIZED: denied with 401$/],
    ['Forbidden', grpc.status.PERMISSION_DENIED, /^FORBIDDEN: denied with 403$/],
  ];
  for (const [method, code, message] of cases) {
    const r = await call(method);
    assert.equal(r.status.code, code, `${method}: ${r.status.details}`);
    assert.match(r.status.details, message, method);
    assert.ok(r.status.metadata.get('x-request-id').length === 1, `${method}: request id in the trailers-only answer`);
  }
  assert.equal(be.calls.length, 0, 'no call reached the backend');
});

test('a route timeout answers DEADLINE_EXCEEDED and cancels the backend call', async () => {
  const cancelled = be.nextCancel();
  const r = await unary(client, `/${SERVICE}/Slow`, Buffer.from('sleep:3000'));
  assert.equal(r.status.code, grpc.status.DEADLINE_EXCEEDED);
  assert.match(r.status.details, /^TIMEOUT: /);
  assert.equal((await cancelled).cancelled, true);
});

test('the rate-limit plugin answers UNAVAILABLE (429 → 14) once the limit is used up', async () => {
  // The window is one second: start the burst just after a boundary, so it fits in one window.
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await call('Limited'));
  const codes = results.map((r) => r.status.code);
  assert.deepEqual(codes.slice(0, 2), [grpc.status.OK, grpc.status.OK]);
  assert.ok(codes.slice(2).every((c) => c === grpc.status.UNAVAILABLE), String(codes));
  assert.match(results[3]!.status.details, /^RATE_LIMITED/);
});

/** One raw gRPC request with grpc-timeout; the answer's head, trailers and how long it took. */
async function rawCall(path: string, grpcTimeout: string): Promise<{ headers: Record<string, unknown>; trailers: Record<string, unknown> | undefined; took: number }> {
  const session = connect(`http://127.0.0.1:${port}`);
  const started = Date.now();
  const frame = Buffer.from([0, 0, 0, 0, 1, 120]);
  const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': grpcTimeout });
  const out = await new Promise<{ headers: Record<string, unknown>; trailers: Record<string, unknown> | undefined }>((resolve) => {
    let headers: Record<string, unknown> = {};
    let trailers: Record<string, unknown> | undefined;
    req.on('response', (h) => (headers = h as Record<string, unknown>));
    req.on('trailers', (t) => (trailers = t as Record<string, unknown>));
    req.on('close', () => resolve({ headers, trailers }));
    req.resume();
    req.end(frame);
  });
  session.close();
  return { ...out, took: Date.now() - started };
}

test('grpc-timeout is a deadline the proxy honours, also when the backend ignores it', async () => {
  // The stalling backend never answers (no head): a Trailers-Only DEADLINE_EXCEEDED.
  const silent = await rawCall('/stall.Service/Silent', '150m');
  assert.equal(silent.headers[':status'], 200);
  assert.equal(silent.headers['grpc-status'], '4');
  assert.match(decodeURIComponent(String(silent.headers['grpc-message'])), /^TIMEOUT: /);
  assert.ok(silent.took >= 140 && silent.took < 2000, `answered after ${silent.took} ms`);
  // It sends its head and stalls: the status comes as trailers.
  const started = await rawCall('/stall.Service/Head', '1S');
  assert.equal(started.headers[':status'], 200);
  assert.equal(started.headers['grpc-status'], undefined);
  assert.equal(started.trailers?.['grpc-status'], '4');
  assert.ok(started.took >= 990 && started.took < 3000, `answered after ${started.took} ms`);
  assert.equal(stalled.length, 2);
  assert.ok(stalled.every((s) => s.closed), 'both backend streams were reset');
});

test('a deadline that passes mid-stream ends the stream with DEADLINE_EXCEEDED trailers, not a reset', async () => {
  // The Slow route has a 200 ms request timeout; a server stream that starts answering and then
  // stalls past it must still end with a status the client can read.
  const raw = connect(`http://127.0.0.1:${port}`);
  const msg = Buffer.from('sleep:3000');
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, msg.length]), msg]);
  const req = raw.request({ ':method': 'POST', ':path': `/${SERVICE}/Slow`, 'content-type': 'application/grpc', te: 'trailers' });
  const got = await new Promise<{ headers: Record<string, unknown>; trailers: Record<string, unknown> | undefined }>((resolve) => {
    let headers: Record<string, unknown> = {};
    let trailers: Record<string, unknown> | undefined;
    req.on('response', (h) => (headers = h as Record<string, unknown>));
    req.on('trailers', (t) => (trailers = t as Record<string, unknown>));
    req.on('close', () => resolve({ headers, trailers }));
    req.resume();
    req.end(frame);
  });
  raw.close();
  // The grpc-js backend sends its response headers at once (x-backend), so the deadline passes
  // after the head went out: the status arrives as trailers.
  assert.equal(got.headers[':status'], 200);
  assert.equal(got.headers['x-backend'], 'be');
  assert.equal(got.trailers?.['grpc-status'], '4');
  assert.equal(req.rstCode, 0);
});
