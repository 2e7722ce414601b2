/**
 * The strict HTTP/1.x request-head parser of FluxGate's own server: every refusal with its
 * status, framing and connection semantics, and `headers` built exactly as node:http builds
 * them (checked against a real node:http server on the same bytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { isHeadError, parseRequestHead, type RequestHead } from '../../src/proxy/request-head.ts';

const MAX = 100;

function ok(head: string): RequestHead {
  const r = parseRequestHead(head, MAX);
  if (isHeadError(r)) assert.fail(`refused ${JSON.stringify(head)}: ${r.status} ${r.message}`);
  return r;
}

function refused(head: string, status: number, max = MAX): void {
  const r = parseRequestHead(head, max);
  assert.ok(isHeadError(r), `accepted ${JSON.stringify(head)}`);
  assert.equal(r.status, status, `${JSON.stringify(head)}: ${r.message}`);
  assert.match(r.code, /^[A-Z_]+$/);
}

test('request line: method, target forms and version', () => {
  const r = ok('GET /a/b?c=d HTTP/1.1\r\nHost: example.com');
  assert.equal(r.method, 'GET');
  assert.equal(r.url, '/a/b?c=d');
  assert.equal(r.httpVersionMinor, 1);
  assert.equal(ok('OPTIONS * HTTP/1.1\r\nHost: x').url, '*');
  assert.equal(ok('GET http://example.com/x HTTP/1.1\r\nHost: example.com').url, 'http://example.com/x');
  assert.equal(ok('PURGE /cache HTTP/1.1\r\nHost: x').method, 'PURGE');
  assert.equal(ok('GET / HTTP/1.0').httpVersionMinor, 0);
  refused('GET / HTTP/2.0\r\nHost: x', 505);
  refused('GET / HTTP/1.1x\r\nHost: x', 400);
  refused('GET / http/1.1\r\nHost: x', 400);
  refused('GET /  HTTP/1.1\r\nHost: x', 400);
  refused('GET  / HTTP/1.1\r\nHost: x', 400);
  refused('GET /a b HTTP/1.1\r\nHost: x', 400);
  refused('GE(T / HTTP/1.1\r\nHost: x', 400);
  refused(' GET / HTTP/1.1\r\nHost: x', 400);
  refused('GET * HTTP/1.1\r\nHost: x', 400);
  refused('GET a/b HTTP/1.1\r\nHost: x', 400);
  refused('GET /\x7f HTTP/1.1\r\nHost: x', 400);
  refused('GET /\x01 HTTP/1.1\r\nHost: x', 400);
  refused('GET /\nx HTTP/1.1\r\nHost: x', 400);
  refused('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443', 501);
  refused('GET / HTTP/1.1', 400);
});

test('header lines: obs-fold, whitespace before the colon, bare CR or LF, control characters, empty names', () => {
  refused('GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n continued', 400);
  refused('GET / HTTP/1.1\r\nHost: x\r\n\tX-A: 1', 400);
  refused('GET / HTTP/1.1\r\nHost: x\r\nX-A : 1', 400);
  refused('GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\rX-B: 2', 400);
  refused('GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\nX-B: 2', 400);
  refused('GET / HTTP/1.1\nHost: x', 400);
  refused('GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b', 400);
  refused('GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb', 400);
  refused('GET / HTTP/1.1\r\nHost: x\r\n: v', 400);
  refused('GET / HTTP/1.1\r\nHost: x\r\nno-colon', 400);
  refused('GET / HTTP/1.1\r\nHost: x\r\nX(A): 1', 400);
  // HTAB and 8-bit bytes are allowed in values (RFC 9110 5.5); OWS around the value is trimmed.
  const r = ok('GET / HTTP/1.1\r\nHost: x\r\nX-A: \t a\tb\xe9 \t\r\nX-Empty:');
  assert.equal(r.headers['x-a'], 'a\tb\xe9');
  assert.equal(r.headers['x-empty'], '');
  assert.deepEqual(r.rawHeaders, ['Host', 'x', 'X-A', 'a\tb\xe9', 'X-Empty', '']);
});

test('header count cap answers 431', () => {
  const lines = Array.from({ length: 5 }, (_, i) => `X-${i}: v`).join('\r\n');
  ok(`GET / HTTP/1.1\r\nHost: x\r\n${lines}`);
  refused(`GET / HTTP/1.1\r\nHost: x\r\n${lines}`, 431, 5);
});

test('Host: exactly one in HTTP/1.1, at most one in HTTP/1.0', () => {
  refused('GET / HTTP/1.1', 400);
  refused('GET / HTTP/1.1\r\nX-A: 1', 400);
  refused('GET / HTTP/1.1\r\nHost: a\r\nHost: b', 400);
  refused('GET / HTTP/1.1\r\nHost: a\r\nhost: a', 400);
  refused('GET / HTTP/1.0\r\nHost: a\r\nHost: b', 400);
  assert.equal(ok('GET / HTTP/1.0').headers.host, undefined);
});

test('framing: Content-Length, chunked, and every ambiguous combination refused', () => {
  assert.equal(ok('GET / HTTP/1.1\r\nHost: x').bodyLength, -2);
  assert.equal(ok('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0').bodyLength, -2);
  assert.equal(ok('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 42').bodyLength, 42);
  assert.equal(ok('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked').bodyLength, -1);
  assert.equal(ok('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked').bodyLength, -1);
  refused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 4', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +4', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length:', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999999999999', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:', 400);
  refused('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked', 501);
  refused('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked', 501);
  refused('POST / HTTP/1.0\r\nTransfer-Encoding: chunked', 400);
});

test('connection: keep-alive defaults per version, close and keep-alive tokens, upgrade', () => {
  assert.equal(ok('GET / HTTP/1.1\r\nHost: x').keepAlive, true);
  assert.equal(ok('GET / HTTP/1.1\r\nHost: x\r\nConnection: close').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.0').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.0\r\nConnection: Keep-Alive').keepAlive, true);
  assert.equal(ok('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade').upgrade, true);
  assert.equal(ok('GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nConnection: upgrade\r\nUpgrade: websocket').upgrade, true);
  assert.equal(ok('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket').upgrade, false);
  assert.equal(ok('GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade').upgrade, false);
});

test('Expect: 100-continue noted on HTTP/1.1, ignored on 1.0; other expectations answer 417', () => {
  assert.equal(ok('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-Continue').expectContinue, true);
  assert.equal(ok('POST / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue').expectContinue, false);
  assert.equal(ok('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3').expectContinue, false);
  refused('POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok', 417);
});

/** What node:http makes of the same request: its req.headers and rawHeaders. */
async function nodeView(head: string): Promise<{ headers: IncomingHttpHeaders; rawHeaders: string[] }> {
  const server = createServer((req, res) => {
    res.end();
    server.emit('seen', { headers: { ...req.headers }, rawHeaders: req.rawHeaders });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const seen = new Promise<{ headers: IncomingHttpHeaders; rawHeaders: string[] }>((r) => server.once('seen', r));
    const sock = connect((server.address() as AddressInfo).port, '127.0.0.1');
    sock.on('error', () => {});
    sock.write(Buffer.from(`${head}\r\n\r\n`, 'latin1'));
    const v = await seen;
    sock.destroy();
    return v;
  } finally {
    server.close();
  }
}

test('headers are built exactly as node:http builds them (duplicates, cookies, single-valued fields, case)', async () => {
  const cases = [
    'GET / HTTP/1.1\r\nHost: example.com\r\nAccept: a\r\naccept: b\r\nACCEPT: c',
    'GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nCookie: b=2\r\nSet-Cookie: s=1\r\nset-cookie: t=2',
    'GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: one\r\nUser-Agent: two\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b',
    'GET / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\ncontent-type: text/html\r\nReferer: /a\r\nReferer: /b',
    'GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2, 10.0.0.3\r\nX-Empty:\r\nX-Tab: a\tb',
    'GET / HTTP/1.0\r\nConnection: keep-alive\r\nVia: 1.0 a\r\nVia: 1.1 b',
  ];
  for (const head of cases) {
    const mine = ok(head);
    const theirs = await nodeView(head);
    assert.deepEqual({ ...mine.headers }, theirs.headers, head);
    assert.deepEqual(mine.rawHeaders, theirs.rawHeaders, head);
  }
});

test('never throws: any latin1 text gets a head or a 4xx/5xx refusal', async () => {
  const fc = (await import('fast-check')).default;
  const piece = fc.constantFrom('GET', 'POST', ' ', '/', '\r\n', '\n', '\r', ':', 'Host', 'x', 'HTTP/1.1', 'HTTP/1.0', 'Content-Length', 'Transfer-Encoding', 'chunked', '0', ',', '\t', '\x00', '\xff');
  fc.assert(fc.property(fc.array(piece, { maxLength: 40 }), fc.string({ maxLength: 20 }), (parts, tail) => {
    const r = parseRequestHead(parts.join('') + tail, 10);
    if (isHeadError(r)) assert.ok([400, 417, 431, 501, 505].includes(r.status));
    else assert.ok(r.method.length > 0 && r.url.length > 0);
  }), { numRuns: 2000 });
});
