/**
 * Hardening over raw sockets: a request-smuggling corpus against a recording upstream, header
 * caps, slowloris and silent clients closed in bounded time, HTTP/2 rapid reset.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { connect as h2connect } from 'node:http2';
import type { Proxy } from '../../src/proxy/index.ts';
import { backend, listener, match, ref, route, send, startBackend, startProxy, table, vhost, type TestBackend } from './helpers.ts';

let upstream: TestBackend;
let proxy: Proxy;
let port: number;

before(async () => {
  upstream = await startBackend('recording');
  ({ proxy, port } = await startProxy(
    table([listener([vhost('*', [route('all', match('/'), [ref('backend/rec')])])])], [backend('backend/rec', [upstream.port])]),
    { limits: { headersTimeoutMs: 1000, http2StreamResetBurst: 50, http2StreamResetRate: 10 } },
  ));
});
after(async () => {
  await proxy.close();
  await upstream.close();
});

/** Write raw bytes, collect everything the proxy answers until it closes or `waitMs` passes. */
function raw(payload: string, waitMs = 400): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    s.on('data', (c) => (text += c.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      closed = true;
      clearTimeout(t);
      resolve({ text, closed });
    });
    const t = setTimeout(() => {
      s.destroy();
      resolve({ text, closed });
    }, waitMs);
    s.write(payload, 'latin1');
  });
}

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
const corpus: [string, string, boolean][] = [
  // [name, payload, must be rejected with 400]
  ['CL.TE', `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, true],
  ['TE.CL', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n${SMUGGLED}\r\n0\r\n\r\n`, true],
  ['double differing CL', `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 37\r\n\r\n${SMUGGLED}`, true],
  ['CL list', `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 37\r\n\r\n${SMUGGLED}`, true],
  ['CL with sign', `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: +37\r\n\r\n${SMUGGLED}`, true],
  ['TE obfuscated value', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`, true],
  ['TE space before colon', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`, true],
  ['TE chunked then identity', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${SMUGGLED}`, true],
  ['TE not last chunked', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n${SMUGGLED}`, true],
  ['bad chunk size', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, true],
  ['chunk data longer than size', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nAB\r\n0\r\n\r\n${SMUGGLED}`, true],
  ['chunk size bare LF', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\n\n${SMUGGLED}`, true],
  ['obs-fold', `GET /a HTTP/1.1\r\nHost: x\r\nX-Foo: a\r\n b\r\n\r\n${SMUGGLED}`, true],
  ['bare CR in value', `GET /a HTTP/1.1\r\nHost: x\r\nX-Foo: a\rGET /smuggled HTTP/1.1\r\n\r\n`, true],
  ['NUL in value', `GET /a HTTP/1.1\r\nHost: x\r\nX-Foo: a\u0000b\r\n\r\n`, true],
  ['space in header name', `GET /a HTTP/1.1\r\nHost: x\r\nX Foo: a\r\n\r\n`, true],
  ['bare LF line endings', `GET /a HTTP/1.1\nHost: x\nContent-Length: 37\n\n${SMUGGLED}`, false],
  ['missing Host', `GET /a HTTP/1.1\r\n\r\n`, true],
  ['two Hosts', `GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n`, false],
  ['invalid request line', `GET /a b HTTP/1.1\r\nHost: x\r\n\r\n`, true],
  ['invalid percent-encoding', `GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n`, true],
  ['NUL in path escape', `GET /a%00 HTTP/1.1\r\nHost: x\r\n\r\n`, true],
];

test('smuggling corpus: ambiguous framing rejected, the recording upstream sees 0 smuggled requests', async () => {
  for (const [name, payload, mustReject] of corpus) {
    const r = await raw(payload);
    if (mustReject) assert.match(r.text, /^HTTP\/1\.1 400 /, `${name}: ${JSON.stringify(r.text.slice(0, 80))}`);
    assert.equal(upstream.seen.filter((s) => s.url.includes('smuggled')).length, 0, `${name} smuggled a request`);
  }
  // The proxy is still healthy and error bodies are the stable JSON shape.
  const ok = await send(port, '/after');
  assert.equal(ok.status, 200);
  const bad = await raw(corpus[0]![1]);
  assert.match(bad.text, /"code":"BAD_REQUEST"/);
});

test('framing is rebuilt upstream: the backend never sees Transfer-Encoding and Content-Length together', async () => {
  await raw(`POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
  const seen = upstream.seen.find((s) => s.url === '/chunked')!;
  assert.equal(seen.body, 'hello');
  assert.ok(!(seen.headers['transfer-encoding'] !== undefined && seen.headers['content-length'] !== undefined));
});

test('header caps: 431 for too many bytes and too many fields', async () => {
  const big = await send(port, '/', { headers: { 'x-big': 'a'.repeat(17 * 1024) } }).catch(() => undefined);
  assert.ok(big === undefined || big.status === 431, `status ${big?.status}`);
  const many: Record<string, string> = {};
  for (let i = 0; i < 150; i++) many[`x-h${i}`] = '1';
  const r = await send(port, '/', { headers: many });
  assert.equal(r.status, 431);
});

test('slowloris: a client dripping headers is closed within the headers timeout bound, healthy traffic unaffected', async () => {
  const t0 = performance.now();
  const s = connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.write('GET / HTTP/1.1\r\nHost: x\r\n');
  const drip = setInterval(() => s.writable && s.write('X-a: b\r\n'), 100);
  const silent = connect(port, '127.0.0.1');
  silent.on('error', () => {});
  const silentClosed = new Promise<number>((r) => silent.on('close', () => r(performance.now() - t0)));
  // Healthy requests keep being served meanwhile.
  for (let i = 0; i < 5; i++) assert.equal((await send(port, '/healthy')).status, 200);
  const closedAfter = await new Promise<number>((r) => s.on('close', () => r(performance.now() - t0)));
  clearInterval(drip);
  assert.ok(closedAfter < 2500, `slowloris closed after ${closedAfter} ms`);
  assert.ok((await silentClosed) < 2500, 'a silent connection is closed too');
});

test('HTTP/2 rapid reset: the session is torn down, upstream requests stay bounded', async () => {
  const before = upstream.seen.length;
  const session = h2connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const closed = new Promise<void>((r) => session.on('close', () => r()));
  await new Promise<void>((r) => session.on('connect', () => r()));
  let sent = 0;
  for (let i = 0; i < 2000 && !session.destroyed && !session.closed; i++) {
    try {
      const req = session.request({ ':path': `/rr${i}`, ':authority': 'x' });
      req.on('error', () => {});
      req.close(8); // NGHTTP2_CANCEL right away
      sent++;
    } catch {
      break;
    }
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
  await new Promise((r) => setTimeout(r, 200));
  const reached = upstream.seen.length - before;
  session.destroy();
  assert.ok(reached < 200, `upstream saw ${reached} of ${sent} reset requests`);
});
