import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { backend, listener, match, ref, route, send, startBackend, startProxy, table, vhost, type TestBackend } from './helpers.ts';
import type { Proxy } from '../../src/proxy/index.ts';

let be: TestBackend;
let proxy: Proxy;
let port: number;
before(async () => {
  be = await startBackend('a');
  ({ proxy, port } = await startProxy(
    table([listener([vhost('*', [route('r/0', match('/'), [ref('backend/a')])])])], [backend('backend/a', [be.port])]),
  ));
});
after(async () => {
  await proxy.close();
  await be.close();
});

test('proxies a GET and a POST over HTTP/1.1', async () => {
  const r = await send(port, '/hello?x=1');
  assert.equal(r.status, 200);
  assert.equal(r.json().url, '/hello?x=1');
  const p = await send(port, '/post', { method: 'POST', body: 'payload' });
  assert.equal(p.json().body, 'payload');
});
