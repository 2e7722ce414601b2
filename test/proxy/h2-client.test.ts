/**
 * HTTP/2 clients on the core stream API (h2-stream.ts): request bodies reach HTTP/1.1 backends,
 * HEAD and 204 answers end the stream, trailers of a chunked HTTP/1.1 response reach the client,
 * response header values with control characters are refused, a client reset aborts upstream.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Proxy } from '../../src/proxy/index.ts';
import { backend, listener, match, ref, route, startBackend, startProxy, table, vhost, type TestBackend } from './helpers.ts';

let echo: TestBackend;
let raw: Server;
let rawPort: number;
let proxy: Proxy;
let port: number;
let session: ClientHttp2Session;
let rawClosed = 0;

before(async () => {
  echo = await startBackend('echo');
  // Answers by path with fixed raw HTTP/1.1 responses.
  raw = createServer((s) => {
    s.on('error', () => {});
    s.on('close', () => rawClosed++);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const line = buf.slice(0, buf.indexOf('\r\n'));
      buf = '';
      if (line.includes('/trailers')) {
        s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 42\r\n\r\n');
      } else if (line.includes('/ctl')) {
        s.write('HTTP/1.1 200 OK\r\nX-Bad: a\u0001b\r\nContent-Length: 2\r\n\r\nok');
      } else if (line.includes('/no-content')) {
        s.write('HTTP/1.1 204 No Content\r\n\r\n');
      } else if (line.includes('/hang')) {
        // never answers
      } else {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello');
      }
    });
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  rawPort = (raw.address() as AddressInfo).port;
  ({ proxy, port } = await startProxy(
    table(
      [listener([vhost('*', [route('raw', match('/raw'), [ref('backend/raw')]), route('echo', match('/'), [ref('backend/echo')])])])],
      [backend('backend/echo', [echo.port]), backend('backend/raw', [rawPort])],
    ),
  ));
  session = h2connect(`http://127.0.0.1:${port}`);
});
after(async () => {
  session.close();
  await proxy.close();
  await echo.close();
  raw.close();
});

interface H2Result {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  trailers: Record<string, unknown>;
}

function h2(path: string, method = 'GET', body?: string, headers: Record<string, string> = {}): Promise<H2Result> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path, ':method': method, ':authority': 'example.com', ...headers }, { endStream: body === undefined });
    const r: H2Result = { status: 0, headers: {}, body: '', trailers: {} };
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      r.status = Number(h[':status']);
      r.headers = h;
    });
    req.on('trailers', (t) => (r.trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.body = Buffer.concat(chunks).toString();
      resolve(r);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

test('h2 client: request bodies (with and without content-length) reach an HTTP/1.1 backend', async () => {
  const sized = await h2('/upload', 'POST', 'hello body', { 'content-length': '10' });
  assert.equal(sized.status, 200);
  assert.equal(JSON.parse(sized.body).body, 'hello body');
  const big = 'y'.repeat(200_000);
  const unsized = await h2('/upload2', 'PUT', big);
  const j = JSON.parse(unsized.body);
  assert.equal(j.body.length, big.length);
  assert.equal(j.headers['transfer-encoding'], 'chunked');
  assert.equal(j.headers.host, 'example.com');
  assert.equal(j.headers['x-forwarded-proto'], 'http');
});

test('h2 client: HEAD and 204 end the stream without a body', async () => {
  const head = await h2('/raw/head', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  const none = await h2('/raw/no-content');
  assert.equal(none.status, 204);
  assert.equal(none.body, '');
});

test('h2 client: trailers of a chunked HTTP/1.1 response are forwarded', async () => {
  const r = await h2('/raw/trailers');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'abc');
  assert.equal(r.headers['content-type'], 'text/plain');
  assert.equal(r.trailers['x-checksum'], '42');
});

test('h2 client: an upstream header value with a control character is a 502, not forwarded', async () => {
  const r = await h2('/raw/ctl');
  assert.equal(r.status, 502);
  assert.equal(JSON.parse(r.body).error.code, 'UPSTREAM_RESET');
});

test('h2 client: a stream reset by the client aborts the upstream request', async () => {
  const before = rawClosed;
  const req = session.request({ ':path': '/raw/hang', ':authority': 'example.com' });
  req.on('error', () => {});
  await new Promise((r) => setTimeout(r, 100));
  req.close(8);
  for (let i = 0; i < 50 && rawClosed === before; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(rawClosed > before, 'the upstream connection of the reset stream was closed');
  // The session still serves.
  assert.equal((await h2('/after')).status, 200);
});

test('h2 client: a request answered before its body is read (404) still completes', async () => {
  const proxyNoRoute = await startProxy(table([listener([vhost('only.example', [route('x', match('/'), [ref('backend/echo')])])])], [backend('backend/echo', [echo.port])]));
  const s = h2connect(`http://127.0.0.1:${proxyNoRoute.port}`);
  try {
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = s.request({ ':path': '/x', ':method': 'POST', ':authority': 'other.example' }, { endStream: false });
      let status = 0;
      const chunks: Buffer[] = [];
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
      req.on('error', reject);
      req.write('a'.repeat(100_000));
      setTimeout(() => req.end('tail'), 50);
    });
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).error.code, 'NO_ROUTE');
  } finally {
    s.close();
    await proxyNoRoute.proxy.close();
  }
});

test('h1 client: Expect: 100-continue is answered by the proxy and the body forwarded', async () => {
  const { connect } = await import('node:net');
  const text = await new Promise<string>((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    let sentBody = false;
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (!sentBody && got.includes('100 Continue')) {
        sentBody = true;
        s.write('hello');
      }
      if (got.includes('"body":"hello"')) {
        s.destroy();
        resolve(got);
      }
    });
    s.write('POST /expect HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    setTimeout(() => {
      s.destroy();
      resolve(got);
    }, 3000);
  });
  assert.match(text, /HTTP\/1\.1 100 Continue/);
  assert.match(text, /HTTP\/1\.1 200 /);
  assert.match(text, /"body":"hello"/);
  assert.doesNotMatch(text, /"expect"/, 'the Expect header is not forwarded');
});
