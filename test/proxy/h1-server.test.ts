/**
 * FluxGate's own HTTP/1.1 server over raw sockets: pipelining in order, chunked request bodies,
 * 100-continue, HTTP/1.0, HEAD, an answer before the body closes the connection, the idle
 * keep-alive timeout, and the response head it writes (Date, framing, Connection).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Proxy } from '../../src/proxy/index.ts';
import { backend, listener, match, ref, route, startBackend, startProxy, table, vhost, type TestBackend } from './helpers.ts';

let upstream: TestBackend;
/** Answers 413 as soon as a request head arrives, without reading the body. */
let early: Server;
let proxy: Proxy;
let port: number;

before(async () => {
  upstream = await startBackend('echo');
  early = createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => s.write('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n'));
  });
  await new Promise<void>((r) => early.listen(0, '127.0.0.1', r));
  ({ proxy, port } = await startProxy(
    table(
      [listener([vhost('*', [route('early', match('/early'), [ref('backend/early')]), route('all', match('/'), [ref('backend/echo')])])])],
      [backend('backend/echo', [upstream.port]), backend('backend/early', [(early.address() as AddressInfo).port])],
    ),
    { limits: { keepAliveTimeoutMs: 300 } },
  ));
});
after(async () => {
  await proxy.close();
  await upstream.close();
  early.close();
});

interface Conn {
  readonly sock: Socket;
  text(): string;
  closed(): boolean;
  /** Resolves when `pred` holds for what arrived so far (or rejects after 3 s). */
  until(pred: (text: string) => boolean): Promise<string>;
}

function open(): Conn {
  const sock = connect(port, '127.0.0.1');
  let text = '';
  let closed = false;
  const waiters: (() => void)[] = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  sock.on('data', (c: Buffer) => {
    text += c.toString('latin1');
    wake();
  });
  sock.on('error', () => {});
  sock.on('close', () => {
    closed = true;
    wake();
  });
  return {
    sock,
    text: () => text,
    closed: () => closed,
    until(pred) {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(text)}`)), 3000);
        const check = (): void => {
          if (pred(text)) {
            clearTimeout(deadline);
            resolve(text);
          } else if (closed) {
            clearTimeout(deadline);
            reject(new Error(`closed; got ${JSON.stringify(text)}`));
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
  };
}

const count = (s: string, sub: string): number => s.split(sub).length - 1;

test('pipelined requests in one write are answered in order on one connection', async () => {
  const c = open();
  c.sock.write('GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\nGET /three HTTP/1.1\r\nHost: x\r\n\r\n');
  const text = await c.until((t) => count(t, '"backend":"echo"') === 3);
  const order = [...text.matchAll(/"url":"(\/\w+)"/g)].map((m) => m[1]);
  assert.deepEqual(order, ['/one', '/two', '/three']);
  assert.equal(count(text, 'HTTP/1.1 200 OK\r\n'), 3);
  assert.equal(c.closed(), false);
  c.sock.destroy();
});

test('response head: Date, Content-Length framing kept, keep-alive on HTTP/1.1', async () => {
  const c = open();
  c.sock.write('GET /h HTTP/1.1\r\nHost: x\r\n\r\n');
  const text = await c.until((t) => t.includes('"url":"/h"'));
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  assert.match(head, /\r\nDate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT/i);
  assert.match(head, /\r\ncontent-length: \d+/i);
  assert.doesNotMatch(head, /transfer-encoding/i);
  assert.match(head, /\r\nConnection: keep-alive$/);
  c.sock.destroy();
});

test('chunked request body reaches the upstream whole; trailers are dropped', async () => {
  const c = open();
  c.sock.write('POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
  await new Promise((r) => setTimeout(r, 30));
  c.sock.write('1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: t\r\n\r\n');
  const text = await c.until((t) => t.includes('"url":"/chunked"'));
  assert.match(text, /"body":"hello world!"/);
  assert.equal(upstream.seen.at(-1)!.headers['x-trailer'], undefined);
  c.sock.destroy();
});

test('malformed chunk sizes answer 400 and close', async () => {
  const c = open();
  c.sock.write('POST /bad HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n');
  const text = await c.until((t) => t.includes('\r\n\r\n'));
  assert.match(text, /^HTTP\/1\.1 400 /);
  await c.until(() => c.closed()).catch(() => undefined);
  assert.equal(c.closed(), true);
});

test('Expect: 100-continue gets the interim answer before the body is sent', async () => {
  const c = open();
  c.sock.write('POST /cont HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
  await c.until((t) => t.startsWith('HTTP/1.1 100 Continue\r\n\r\n'));
  c.sock.write('data');
  const text = await c.until((t) => t.includes('"url":"/cont"'));
  assert.match(text, /"body":"data"/);
  c.sock.destroy();
});

test('HTTP/1.0: answered and closed; HEAD: head only', async () => {
  const c = open();
  c.sock.write('GET /old HTTP/1.0\r\nHost: x\r\n\r\n');
  await c.until(() => c.closed()).catch(() => undefined);
  assert.match(c.text(), /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(c.text(), /\r\nConnection: close\r\n/);
  assert.match(c.text(), /"url":"\/old"/);
  assert.equal(c.closed(), true);

  const h = open();
  h.sock.write('HEAD /head HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n');
  const text = await h.until((t) => t.includes('"url":"/after"'));
  // The HEAD answer carries no body: the next response starts right after its head.
  const first = text.indexOf('\r\n\r\n') + 4;
  assert.ok(text.startsWith('HTTP/1.1 200 OK', first), text);
  h.sock.destroy();
});

test('an answer before the whole request body arrived closes the connection (no smuggling by leftovers)', async () => {
  const c = open();
  c.sock.write('POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.until((t) => t.includes('\r\n\r\n'));
  assert.match(c.text(), /^HTTP\/1\.1 413 /);
  await c.until(() => c.closed()).catch(() => undefined);
  assert.equal(c.closed(), true);
  assert.equal(upstream.seen.some((s) => s.url === '/smuggled'), false);
});

test('an idle keep-alive connection is closed after keepAliveTimeoutMs', async () => {
  const c = open();
  c.sock.write('GET /idle HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.until((t) => t.includes('"url":"/idle"'));
  const t0 = Date.now();
  await c.until(() => c.closed()).catch(() => undefined);
  const ms = Date.now() - t0;
  assert.equal(c.closed(), true);
  assert.ok(ms >= 200 && ms < 1500, `closed after ${ms} ms`);
});
