/** Every filter type, in rule order, plus per-backendRef filters. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Filter } from '../../src/ir/index.ts';
import type { Proxy } from '../../src/proxy/index.ts';
import { backend, listener, match, ref, route, send, startBackend, startProxy, table, vhost, type TestBackend } from './helpers.ts';

let main: TestBackend;
let other: TestBackend;
let slowMirror: TestBackend;
let mirror: TestBackend;
let proxy: Proxy;
let port: number;

const cors = {
  allowOrigins: ['https://app.example', 'https://*.corp.example'],
  allowCredentials: true,
  allowMethods: ['GET', 'PUT'],
  allowHeaders: ['x-token'],
  exposeHeaders: ['x-backend'],
  maxAgeSeconds: 600,
};

before(async () => {
  main = await startBackend('main');
  other = await startBackend('other');
  mirror = await startBackend('mirror');
  slowMirror = await startBackend('slow-mirror', (_req, _body, res) => {
    setTimeout(() => res.end('late'), 2000);
    return true;
  });
  const r = (id: string, path: string, filters: Filter[], refs = [ref('backend/main')]) => route(id, match(path), refs, filters);
  ({ proxy, port } = await startProxy(
    table(
      [
        listener([
          vhost('*', [
            r('req-headers', '/req-headers', [
              { type: 'RequestHeaderModifier', modifier: { set: [{ name: 'X-Set', value: 'set' }, { name: 'x-over', value: 'new' }], add: [{ name: 'X-Add', value: 'b' }], remove: ['x-remove'] } },
            ]),
            r('res-headers', '/res-headers', [
              { type: 'ResponseHeaderModifier', modifier: { set: [{ name: 'X-Backend', value: 'hidden' }], add: [{ name: 'x-extra', value: '1' }], remove: ['content-type'] } },
            ]),
            r('redirect-https', '/to-https', [{ type: 'RequestRedirect', redirect: { scheme: 'https', statusCode: 301 } }]),
            r('redirect-host-port', '/to-host', [{ type: 'RequestRedirect', redirect: { hostname: 'other.example', port: 8443, statusCode: 302 } }]),
            r('redirect-full', '/full', [{ type: 'RequestRedirect', redirect: { path: { type: 'ReplaceFullPath', value: '/new' }, statusCode: 307 } }]),
            r('redirect-prefix', '/old', [{ type: 'RequestRedirect', redirect: { path: { type: 'ReplacePrefixMatch', prefix: '/old', value: '/new' }, statusCode: 308 } }]),
            r('redirect-listener-port', '/same', [{ type: 'RequestRedirect', redirect: { hostname: 'h.example', statusCode: 302 } }]),
            r('rewrite-host', '/rw-host', [{ type: 'URLRewrite', rewrite: { hostname: 'internal.svc' } }]),
            r('rewrite-full', '/rw-full', [{ type: 'URLRewrite', rewrite: { path: { type: 'ReplaceFullPath', value: '/replaced' } } }]),
            r('rewrite-prefix', '/rw-prefix', [{ type: 'URLRewrite', rewrite: { path: { type: 'ReplacePrefixMatch', prefix: '/rw-prefix', value: '/' } } }]),
            r('mirror', '/mirror', [{ type: 'RequestMirror', mirror: { backendId: 'backend/mirror' } }]),
            r('mirror-slow', '/mirror-slow', [{ type: 'RequestMirror', mirror: { backendId: 'backend/slow-mirror' } }]),
            r('mirror-none', '/mirror-none', [{ type: 'RequestMirror', mirror: { backendId: 'backend/mirror', fraction: 0 } }]),
            r('cors', '/cors', [{ type: 'CORS', cors }]),
            r('cors-any', '/cors-any', [{ type: 'CORS', cors: { ...cors, allowOrigins: ['*'], allowCredentials: false, allowMethods: ['*'], allowHeaders: ['*'] } }]),
            r('plugin', '/plugin', [{ type: 'Plugin', plugin: { kind: 'Auth', id: 'plugin/ns/Auth/a', config: {} } }]),
            r('order', '/order', [
              { type: 'RequestHeaderModifier', modifier: { set: [{ name: 'x-step', value: 'one' }], add: [], remove: [] } },
              { type: 'RequestHeaderModifier', modifier: { set: [], add: [{ name: 'x-step', value: 'two' }], remove: [] } },
            ]),
            r('per-backend', '/per-backend', [], [
              ref('backend/other', 1, [
                { type: 'RequestHeaderModifier', modifier: { set: [{ name: 'x-which', value: 'other' }], add: [], remove: [] } },
                { type: 'URLRewrite', rewrite: { path: { type: 'ReplaceFullPath', value: '/backend-path' } } },
                { type: 'ResponseHeaderModifier', modifier: { set: [{ name: 'x-from', value: 'backend-filter' }], add: [], remove: [] } },
              ]),
            ]),
          ]),
        ]),
      ],
      [backend('backend/main', [main.port]), backend('backend/other', [other.port]), backend('backend/mirror', [mirror.port]), backend('backend/slow-mirror', [slowMirror.port])],
    ),
  ));
});
after(async () => {
  await proxy.close();
  await Promise.all([main, other, mirror, slowMirror].map((b) => b.close()));
});

test('RequestHeaderModifier: set, add (appends), remove; case-insensitive names', async () => {
  const r = await send(port, '/req-headers', { headers: { 'X-Over': 'old', 'x-add': 'a', 'X-Remove': 'gone' } });
  const h = r.json().headers as Record<string, string>;
  assert.equal(h['x-set'], 'set');
  assert.equal(h['x-over'], 'new');
  assert.equal(h['x-add'], 'a,b');
  assert.equal(h['x-remove'], undefined);
});

test('ResponseHeaderModifier', async () => {
  const r = await send(port, '/res-headers');
  assert.equal(r.headers['x-backend'], 'hidden');
  assert.equal(r.headers['x-extra'], '1');
  assert.equal(r.headers['content-type'], undefined);
});

test('filters run in rule order', async () => {
  const r = await send(port, '/order');
  assert.equal((r.json().headers as Record<string, string>)['x-step'], 'one,two');
});

test('RequestRedirect: scheme, hostname, port, full path, prefix, status; default ports left out', async () => {
  const a = await send(port, '/to-https/x?q=1', { host: 'www.example.com:9999' });
  assert.equal(a.status, 301);
  assert.equal(a.headers.location, 'https://www.example.com/to-https/x?q=1');
  const b = await send(port, '/to-host');
  assert.equal(b.status, 302);
  assert.equal(b.headers.location, 'http://other.example:8443/to-host');
  const c = await send(port, '/full/deep?k=v');
  assert.equal(c.status, 307);
  assert.equal(c.headers.location, `http://example.com:${port}/new?k=v`);
  const d = await send(port, '/old/a/b');
  assert.equal(d.status, 308);
  assert.equal(d.headers.location, `http://example.com:${port}/new/a/b`);
  const e = await send(port, '/same');
  assert.equal(e.headers.location, `http://h.example:${port}/same`);
  assert.equal(main.seen.some((s) => s.url.startsWith('/to-') || s.url.startsWith('/old')), false);
});

test('URLRewrite: hostname becomes Host upstream (X-Forwarded-Host keeps the original); paths', async () => {
  const a = await send(port, '/rw-host/p', { host: 'public.example' });
  const h = a.json().headers as Record<string, string>;
  assert.equal(h.host, 'internal.svc');
  assert.equal(h['x-forwarded-host'], 'public.example');
  assert.equal((await send(port, '/rw-full/a?x=1')).json().url, '/replaced?x=1');
  assert.equal((await send(port, '/rw-prefix/a/b')).json().url, '/a/b');
  assert.equal((await send(port, '/rw-prefix')).json().url, '/');
});

test('RequestMirror: the mirror gets a copy with the body; the response comes from the main backend', async () => {
  const before = mirror.seen.length;
  const r = await send(port, '/mirror/x', { method: 'POST', body: 'copy me', headers: { 'content-type': 'text/plain' } });
  assert.equal(r.json().backend, 'main');
  assert.equal(r.json().body, 'copy me');
  for (let i = 0; i < 50 && mirror.seen.length === before; i++) await new Promise((res) => setTimeout(res, 20));
  const copy = mirror.seen.at(-1)!;
  assert.equal(copy.url, '/mirror/x');
  assert.equal(copy.body, 'copy me');
});

test('RequestMirror never delays the main request (mirror backend sleeps 2 s)', async () => {
  const t0 = performance.now();
  const r = await send(port, '/mirror-slow');
  const ms = performance.now() - t0;
  assert.equal(r.status, 200);
  assert.ok(ms < 500, `main request took ${ms} ms`);
});

test('RequestMirror fraction 0 mirrors nothing', async () => {
  const before = mirror.seen.length;
  await send(port, '/mirror-none');
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(mirror.seen.length, before);
});

test('CORS: preflight answered by the proxy (allowed, disallowed, wildcard origin)', async () => {
  const before = main.seen.length;
  const ok = await send(port, '/cors', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example');
  assert.equal(ok.headers['access-control-allow-credentials'], 'true');
  assert.equal(ok.headers['access-control-allow-methods'], 'GET, PUT');
  assert.equal(ok.headers['access-control-allow-headers'], 'x-token');
  assert.equal(ok.headers['access-control-max-age'], '600');
  assert.equal(ok.headers['access-control-expose-headers'], 'x-backend', 'conformance HTTPRouteCORS expects it on preflights too');
  const wild = await send(port, '/cors', { method: 'OPTIONS', headers: { origin: 'https://a.b.corp.example', 'access-control-request-method': 'GET' } });
  assert.equal(wild.headers['access-control-allow-origin'], 'https://a.b.corp.example');
  const bad = await send(port, '/cors', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
  assert.equal(bad.headers['access-control-allow-origin'], undefined);
  const bare = await send(port, '/cors', { method: 'OPTIONS', headers: { origin: 'https://corp.example', 'access-control-request-method': 'GET' } });
  assert.equal(bare.headers['access-control-allow-origin'], undefined);
  assert.equal(main.seen.length, before, 'preflights never reach the backend');
});

test('CORS: actual requests get allow-origin, credentials and expose headers', async () => {
  const r = await send(port, '/cors', { headers: { origin: 'https://app.example' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], 'https://app.example');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  assert.equal(r.headers['access-control-expose-headers'], 'x-backend');
  assert.match(String(r.headers.vary), /Origin/);
  const none = await send(port, '/cors', { headers: { origin: 'https://evil.example' } });
  assert.equal(none.headers['access-control-allow-origin'], undefined);
  const any = await send(port, '/cors-any', { method: 'OPTIONS', headers: { origin: 'https://x.test', 'access-control-request-method': 'DELETE' } });
  assert.equal(any.headers['access-control-allow-origin'], '*');
  assert.equal(any.headers['access-control-allow-methods'], '*');
});

test('Plugin filter unknown to the proxy fails closed with 500', async () => {
  const r = await send(port, '/plugin');
  assert.equal(r.status, 500);
  assert.equal((r.json().error as { code: string }).code, 'PLUGIN_UNAVAILABLE');
});

test('per-backendRef filters apply after the backend is chosen', async () => {
  const r = await send(port, '/per-backend/x');
  const j = r.json();
  assert.equal(j.backend, 'other');
  assert.equal(j.url, '/backend-path');
  assert.equal((j.headers as Record<string, string>)['x-which'], 'other');
  assert.equal(r.headers['x-from'], 'backend-filter');
});
