// The proxy side of the plugin contract, on a routing-table literal: hooks run in filter
// order, may answer (with headers, redirects), continue synchronously or after a Promise, add
// response headers and upstream headers; a hook that throws at create or rejects at request
// time fails closed; without a runtime a plugin filter answers 500 PLUGIN_UNAVAILABLE.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import type { Filter } from '../../src/ir/index.ts';
import { BUILTIN_PLUGINS, createPluginRuntime, type HookResult, type Plugin } from '../../src/plugins/index.ts';
import { freePort } from '../helpers/net.ts';
import type { Proxy } from '../../src/proxy/index.ts';
import { backend, listener, match, ref, route, send, startBackend, startProxy, table, vhost, type TestBackend } from '../proxy/helpers.ts';

const calls: string[] = [];
const testPlugin: Plugin = {
  kind: 'test',
  priority: 0,
  validate: (config) => ({ ok: true, config }),
  create(config) {
    const c = config as { mode: string; tag: string };
    if (c.mode === 'broken') throw new Error('cannot start');
    return {
      onRequest(req): HookResult | Promise<HookResult> {
        calls.push(c.tag);
        switch (c.mode) {
          case 'pass':
            req.upHeaders[`x-${c.tag}`] = 'seen';
            req.addResponseHeader(`x-res-${c.tag}`, 'yes');
            return undefined;
          case 'fields':
            // A block of fields as the rate limiter adds them; `x-res-one` also comes from 'pass'.
            req.addResponseLines(block(c.tag));
            return undefined;
          case 'override':
            // Same response header as the 'pass' plugin tagged `one`: the later value wins.
            req.addResponseHeader('x-res-one', 'replaced');
            return undefined;
          case 'async':
            return new Promise((r) => setTimeout(() => {
              req.consumer = 'async-user';
              req.upHeaders['x-consumer-username'] = 'async-user';
              r(undefined);
            }, 20));
          case 'deny':
            return { status: 429, code: 'RATE_LIMITED', message: 'slow down', headers: { 'retry-after': '3' } };
          case 'redirect':
            return { status: 302, code: 'AUTH_REDIRECT', message: 'login', headers: { location: 'https://idp.test/auth', 'set-cookie': ['a=1', 'b=2'] } };
          case 'reject':
            return Promise.reject(new Error('boom'));
          default:
            return undefined;
        }
      },
    };
  },
};

/** Two field lines, the second named as the 'pass' plugin tagged `one` names its own. */
function block(tag: string): string {
  return `x-block-${tag}: ${tag}\r\nx-res-one: from-${tag}\r\n`;
}

const p = (tag: string, mode: string): Filter => ({ type: 'Plugin', plugin: { kind: 'test', id: `plugin/${tag}`, config: { mode, tag } } });

let b: TestBackend;
let proxy: Proxy;
let port = 0;
const runtime = createPluginRuntime({ plugins: [testPlugin, ...BUILTIN_PLUGINS] });

before(async () => {
  b = await startBackend('b');
  const be = backend('backend/default/b/80', [b.port]);
  const dead = backend('backend/default/dead/80', [await freePort()]);
  const breaker: Filter = { type: 'Plugin', plugin: { kind: 'circuit-breaker', id: 'policy/cb', config: { consecutiveFailures: 2, openSeconds: 30, failureStatuses: [502, 503, 504] } } };
  const routes = [
    route('r/chain', match('/chain'), [ref(be.id)], [p('one', 'pass'), p('two', 'async'), p('three', 'pass')]),
    route('r/override', match('/override'), [ref(be.id)], [p('one', 'pass'), p('again', 'override')]),
    route('r/fields', match('/fields/alone'), [ref(be.id)], [p('a', 'fields')]),
    route('r/fields-twice', match('/fields/twice'), [ref(be.id)], [p('a', 'fields'), p('b', 'fields')]),
    route('r/fields-then-header', match('/fields/then-header'), [ref(be.id)], [p('a', 'fields'), p('one', 'pass')]),
    route('r/header-then-fields', match('/fields/after-header'), [ref(be.id)], [p('one', 'pass'), p('a', 'fields')]),
    route('r/fields-modified', match('/fields/modified'), [ref(be.id)], [p('a', 'fields'), { type: 'ResponseHeaderModifier', modifier: { set: [{ name: 'x-set', value: 'yes' }], add: [], remove: [] } }]),
    route('r/deny', match('/deny'), [ref(be.id)], [p('first', 'pass'), p('deny', 'deny'), p('never', 'pass')]),
    route('r/redirect', match('/redirect'), [ref(be.id)], [p('login', 'redirect')]),
    route('r/reject', match('/reject'), [ref(be.id)], [p('reject', 'reject')]),
    route('r/broken', match('/broken'), [ref(be.id)], [p('broken', 'broken')]),
    route('r/unknown', match('/unknown'), [ref(be.id)], [{ type: 'Plugin', plugin: { kind: 'nope', id: 'plugin/nope', config: {} } }]),
    route('r/dead', match('/dead'), [ref(dead.id)], [breaker]),
  ];
  ({ proxy, port } = await startProxy(table([listener([vhost('*', routes)])], [be, dead]), { plugins: runtime }));
});

after(async () => {
  await proxy.close();
  runtime.close();
  await b.close();
});

test('hooks run in order, async ones resume the chain, headers reach upstream and client', async () => {
  calls.length = 0;
  const r = await send(port, '/chain', { headers: { 'x-consumer-username': 'spoofed' } });
  assert.equal(r.status, 200);
  assert.deepEqual(calls, ['one', 'two', 'three']);
  const seen = b.seen.at(-1)!;
  assert.equal(seen.headers['x-one'], 'seen');
  assert.equal(seen.headers['x-three'], 'seen');
  assert.equal(seen.headers['x-consumer-username'], 'async-user');
  assert.equal(r.headers['x-res-one'], 'yes');
  assert.equal(r.headers['x-res-three'], 'yes');
});

test('a response header added twice is sent once, with the later value', async () => {
  const r = await send(port, '/override');
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-res-one'], 'replaced');
});

test('a block of response fields: alone, merged with another block or a header (the later value wins), with a response modifier; over HTTP/1.1 and h2c', async () => {
  const cases: [string, Record<string, string | undefined>][] = [
    ['/fields/alone', { 'x-block-a': 'a', 'x-res-one': 'from-a' }],
    ['/fields/twice', { 'x-block-a': 'a', 'x-block-b': 'b', 'x-res-one': 'from-b' }],
    ['/fields/then-header', { 'x-block-a': 'a', 'x-res-one': 'yes' }],
    ['/fields/after-header', { 'x-block-a': 'a', 'x-res-one': 'from-a' }],
    ['/fields/modified', { 'x-block-a': 'a', 'x-res-one': 'from-a', 'x-set': 'yes' }],
  ];
  for (const [path, want] of cases) {
    for (const [proto, r] of [['h1', await send(port, path)], ['h2c', await sendH2c(port, path)]] as const) {
      assert.equal(r.status, 200, `${proto} ${path}`);
      // A field sent twice would read as 'a, b' here.
      for (const [name, value] of Object.entries(want)) assert.equal(r.headers[name], value, `${proto} ${path} ${name}`);
    }
  }
});

test('an answer stops the chain with its status, code and headers', async () => {
  calls.length = 0;
  const r = await send(port, '/deny');
  assert.equal(r.status, 429);
  assert.equal(r.json<{ error: { code: string } }>().error.code, 'RATE_LIMITED');
  assert.equal(r.headers['retry-after'], '3');
  assert.deepEqual(calls, ['first', 'deny']);
  const red = await send(port, '/redirect');
  assert.equal(red.status, 302);
  assert.equal(red.headers.location, 'https://idp.test/auth');
  assert.deepEqual(red.headers['set-cookie'], ['a=1', 'b=2']);
});

test('fail closed: a rejecting hook, a plugin that cannot start, an unknown kind, no runtime', async () => {
  const before = b.seen.length;
  const rej = await send(port, '/reject');
  assert.equal(rej.status, 500);
  assert.equal(rej.json<{ error: { code: string } }>().error.code, 'PLUGIN_FAILED');
  for (const path of ['/broken', '/unknown']) {
    const r = await send(port, path);
    assert.equal(r.status, 500, path);
    assert.equal(r.json<{ error: { code: string } }>().error.code, 'PLUGIN_CONFIG_INVALID', path);
  }
  assert.equal(b.seen.length, before, 'nothing reached the backend');
  const bare = await startProxy(table([listener([vhost('*', [route('r/x', match('/'), [ref('backend/default/b/80')], [p('x', 'pass')])])])], [backend('backend/default/b/80', [b.port])]));
  try {
    const r = await send(bare.port, '/');
    assert.equal(r.status, 500);
    assert.equal(r.json<{ error: { code: string } }>().error.code, 'PLUGIN_UNAVAILABLE');
  } finally {
    await bare.proxy.close();
  }
});

test('circuit breaker counts the proxy\'s own 502s and opens', async () => {
  assert.equal((await send(port, '/dead')).status, 502);
  assert.equal((await send(port, '/dead')).status, 502);
  const open = await send(port, '/dead');
  assert.equal(open.status, 503);
  assert.equal(open.json<{ error: { code: string } }>().error.code, 'CIRCUIT_OPEN');
  assert.equal(open.headers['retry-after'], '30');
});

/** One GET over cleartext HTTP/2 (prior knowledge). */
async function sendH2c(port: number, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({ ':path': path, ':authority': 'example.com' });
      req.on('response', (h) => {
        req.resume();
        req.on('end', () => resolve({ status: Number(h[':status']), headers: h }));
      });
      req.on('error', reject);
      req.end();
    });
  } finally {
    session.close();
  }
}
