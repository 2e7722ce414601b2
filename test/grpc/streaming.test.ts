/**
 * Real gRPC through the proxy: @grpc/grpc-js clients → FluxGate (h2c prior knowledge on the
 * plain port, and TLS with ALPN h2) → a @grpc/grpc-js server over h2c. All four call kinds,
 * metadata both ways, trailers (grpc-status, grpc-message, custom and binary trailing metadata),
 * large messages, many concurrent streams, cancellation and deadlines reaching the backend.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, constants } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Listener } from '../../src/ir/index.ts';
import { createProxy, type Proxy } from '../../src/proxy/index.ts';
import { backend, listener, match, ref, route, table, vhost } from '../proxy/helpers.ts';
import { echoClient, grpc, readAll, SERVICE, startGrpcBackend, unary, type EchoClient, type GrpcBackend } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fluxgate-grpc-'));
let be: GrpcBackend;
let proxy: Proxy;
let port: number;
let tlsPort: number;
let ca: string;
let client: EchoClient;
let tlsClient: EchoClient;

function httpsListener(certPem: string, keyPem: string): Listener {
  return {
    id: 'port/127.0.0.1/0/tls',
    address: '127.0.0.1',
    port: 0,
    protocol: 'HTTPS',
    gatewayListeners: [{ id: 'listener/default/gw/https', hostname: '*', certificates: [{ id: 'secret/default/grpc', certPem, keyPem }] }],
    virtualHosts: [vhost('*', [route('tls', match('/'), [ref('backend/grpc')])], 'listener/default/gw/https')],
  };
}

before(async () => {
  const key = join(dir, 'tls.key');
  const crt = join(dir, 'tls.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=grpc.example.com', '-addext', 'subjectAltName=DNS:grpc.example.com'], { stdio: 'ignore' });
  ca = readFileSync(crt, 'utf8');
  be = await startGrpcBackend('be');
  const plain = listener([vhost('*', [route('all', match('/'), [ref('backend/grpc')])])]);
  const t = table([plain, httpsListener(ca, readFileSync(key, 'utf8'))], [backend('backend/grpc', [be.port], 'h2c')]);
  proxy = createProxy({ limits: { drainTimeoutMs: 2000 } });
  const result = await proxy.apply(t);
  assert.ok(result.listeners.every((l) => l.bound), JSON.stringify(result));
  port = result.listeners[0]!.boundPort!;
  tlsPort = result.listeners[1]!.boundPort!;
  client = echoClient(port);
  tlsClient = echoClient(tlsPort, { tls: { ca, servername: 'grpc.example.com' } });
});

after(async () => {
  client?.close();
  tlsClient?.close();
  await proxy?.close();
  await be?.close();
  rmSync(dir, { recursive: true, force: true });
});

function md(pairs: Record<string, string | Buffer>): grpc.Metadata {
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(pairs)) m.set(k, v);
  return m;
}

for (const via of ['h2c', 'tls'] as const) {
  const c = (): EchoClient => (via === 'h2c' ? client : tlsClient);

  test(`${via}: unary call with request metadata, response metadata and trailers proxied`, async () => {
    const r = await unary(c(), `/${SERVICE}/Unary`, Buffer.from('hello'), md({ 'x-user': 'alice', 'x-bin-bin': Buffer.from([9, 8, 7]) }));
    assert.equal(r.err, null);
    assert.equal(r.value?.toString(), 'hello');
    assert.equal(r.status.code, grpc.status.OK);
    assert.deepEqual(r.headers?.get('x-echo-user'), ['alice']);
    assert.deepEqual(r.status.metadata.get('x-trailer'), ['end-of-call']);
    assert.deepEqual(r.status.metadata.get('x-backend'), ['be']);
    assert.deepEqual(r.status.metadata.get('x-bin-trailer-bin'), [Buffer.from([0, 1, 2, 255])]);
    const seen = be.calls.at(-1)!;
    assert.equal(seen.metadata['x-user'], 'alice');
    assert.equal(seen.metadata['x-bin-bin'], Buffer.from([9, 8, 7]).toString('base64'));
    // te: trailers reached the backend (grpc-js servers reject a call without it), and the proxy
    // says who the client was.
    assert.ok(seen.metadata['x-forwarded-for'] !== undefined);
    assert.equal(seen.metadata['x-forwarded-proto'], via === 'h2c' ? 'http' : 'https');
  });

  test(`${via}: a backend error status and message arrive as the backend sent them`, async () => {
    const r = await unary(c(), `/${SERVICE}/Unary`, Buffer.from('fail:5:no such thing: 100% gone ✗'));
    assert.equal(r.status.code, grpc.status.NOT_FOUND);
    assert.equal(r.status.details, 'no such thing: 100% gone ✗');
    assert.deepEqual(r.status.metadata.get('x-trailer'), ['end-of-call']);
  });

  test(`${via}: server streaming`, async () => {
    const { messages: got, status } = await readAll(c().ServerStream(Buffer.from('50:1000'), new grpc.Metadata()));
    assert.equal(status.code, grpc.status.OK);
    assert.equal(got.length, 50);
    assert.ok(got.every((b, i) => b.length === 1000 && b[0] === 48 + (i % 10)));
    assert.deepEqual(status.metadata.get('x-trailer'), ['end-of-call']);
  });

  test(`${via}: client streaming`, async () => {
    const res = await new Promise<Buffer>((resolve, reject) => {
      const call = c().ClientStream(new grpc.Metadata(), {}, (err, v) => (err ? reject(err) : resolve(v!)));
      for (let i = 0; i < 100; i++) call.write(Buffer.alloc(500, 1));
      call.end();
    });
    assert.equal(res.toString(), '100:50000');
  });

  test(`${via}: bidirectional streaming is interactive (each answer before the next request)`, async () => {
    const call = c().Bidi(new grpc.Metadata());
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) {
      const next = new Promise<Buffer>((r) => call.once('data', r));
      call.write(Buffer.from(`ping-${i}`));
      answers.push((await next).toString());
    }
    const status = new Promise<grpc.StatusObject>((r) => call.on('status', r));
    call.end();
    assert.equal((await status).code, grpc.status.OK);
    assert.deepEqual(answers, Array.from({ length: 20 }, (_, i) => `ping-${i}`));
  });
}

test('large messages both ways (8 MiB request and response)', async () => {
  const big = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
  const r = await unary(client, `/${SERVICE}/Unary`, big);
  assert.equal(r.status.code, grpc.status.OK);
  assert.ok(r.value?.equals(big));
  const { messages, status } = await readAll(client.ServerStream(Buffer.from(`4:${4 * 1024 * 1024}`), new grpc.Metadata()));
  assert.equal(status.code, grpc.status.OK);
  assert.deepEqual(messages.map((m) => m.length), Array(4).fill(4 * 1024 * 1024));
});

test('many concurrent streams on one client connection (300 unary calls, 20 bidi streams)', async () => {
  const unaries = Array.from({ length: 300 }, (_, i) => unary(client, `/${SERVICE}/Unary`, Buffer.from(`n${i}`)));
  const bidis = Array.from({ length: 20 }, async (_, i) => {
    const call = client.Bidi(new grpc.Metadata());
    const all = readAll(call);
    for (let j = 0; j < 10; j++) call.write(Buffer.from(`${i}.${j}`));
    call.end();
    const { messages, status } = await all;
    assert.equal(status.code, grpc.status.OK);
    return messages.length;
  });
  const results = await Promise.all(unaries);
  results.forEach((r, i) => {
    assert.equal(r.status.code, grpc.status.OK, `call ${i}: ${r.status.details}`);
    assert.equal(r.value?.toString(), `n${i}`);
  });
  assert.deepEqual(await Promise.all(bidis), Array(20).fill(10));
});

test('a client that cancels resets the upstream stream', async () => {
  const cancelled = be.nextCancel();
  const call = client.Unary(Buffer.from('sleep:10000'), new grpc.Metadata(), {}, () => {});
  call.on('status', () => {});
  await new Promise<void>((r) => call.on('metadata', () => r()));
  call.cancel();
  const seen = await Promise.race([cancelled, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
  assert.ok(seen !== null, 'the backend saw the cancellation within 3 s');
  assert.equal(seen.cancelled, true);
});

test('a cancelled bidi stream resets the upstream stream too', async () => {
  const cancelled = be.nextCancel();
  const call = client.Bidi(new grpc.Metadata());
  call.on('error', () => {});
  const first = new Promise<Buffer>((r) => call.once('data', r));
  call.write(Buffer.from('x'));
  await first;
  call.cancel();
  const seen = await Promise.race([cancelled, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
  assert.ok(seen !== null && seen.cancelled);
});

test('a deadline reaches the backend as grpc-timeout and expires there and at the client', async () => {
  const cancelled = be.nextCancel();
  const started = Date.now();
  const r = await unary(client, `/${SERVICE}/Unary`, Buffer.from('sleep:5000'), new grpc.Metadata(), { deadline: started + 300 });
  assert.equal(r.status.code, grpc.status.DEADLINE_EXCEEDED);
  // The backend's call had the client's deadline (sent as grpc-timeout), not none.
  const seen = be.calls.at(-1)!;
  assert.ok(seen.deadlineMs !== undefined && seen.deadlineMs - started < 1000, `backend deadline ${seen.deadlineMs}`);
  const c = await Promise.race([cancelled, new Promise<null>((res) => setTimeout(() => res(null), 3000))]);
  assert.ok(c !== null, 'the backend call ended');
});

test("a backend's Trailers-Only answer stays Trailers-Only (one HEADERS frame with END_STREAM)", async () => {
  // grpc-js answers an unknown method of a known server with a Trailers-Only UNIMPLEMENTED.
  const r = await unary(client, `/${SERVICE}/NoSuchMethod`, Buffer.from('x'));
  assert.equal(r.status.code, grpc.status.UNIMPLEMENTED);
  assert.match(r.status.details, /NoSuchMethod/);
  const session = connect(`http://127.0.0.1:${port}`);
  const req = session.request({ ':method': 'POST', ':path': `/${SERVICE}/NoSuchMethod`, 'content-type': 'application/grpc', te: 'trailers' });
  const [headers, flags] = await new Promise<[Record<string, unknown>, number]>((resolve) => {
    req.on('response', (h, f) => resolve([h as Record<string, unknown>, f]));
    req.end(Buffer.from([0, 0, 0, 0, 1, 120]));
  });
  let trailers = false;
  req.on('trailers', () => (trailers = true));
  let data = 0;
  req.on('data', (d: Buffer) => (data += d.length));
  await new Promise((r) => req.on('close', r));
  session.close();
  assert.equal(headers['grpc-status'], '12');
  assert.ok((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0, 'END_STREAM on the response HEADERS');
  assert.equal(trailers, false);
  assert.equal(data, 0);
});
