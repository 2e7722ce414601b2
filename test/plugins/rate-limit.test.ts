// Rate limiting: exact counts at window boundaries (injected clock), several windows at once,
// keys (consumer, IP with trusted proxies, header, route), headers and 429 + Retry-After.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decimal, HeaderLayout, limitedHeaders, rateLimitLines } from '../../src/plugins/rate-limit/headers.ts';
import { LocalCounters } from '../../src/plugins/rate-limit/local-store.ts';
import { validateRateLimit } from '../../src/plugins/rate-limit/validate.ts';
import { clock, makeReq, runtime } from './helpers.ts';
import type { PluginHooks } from '../../src/plugins/index.ts';

const vctx = { field: 'spec.rateLimit', namespace: 'default', consumers: [], secret: () => undefined };

function limiter(spec: Record<string, unknown>, now: () => number, id = 'policy/default/TrafficPolicy/t/rateLimit'): PluginHooks {
  const v = validateRateLimit(spec, vctx);
  assert.ok(v.ok, JSON.stringify(v));
  const rt = runtime(now);
  rt.beginCompile();
  const h = rt.compile({ kind: 'rate-limit', id, config: v.config });
  rt.endCompile();
  return h;
}

test('local counters: exactly N per window, reset exactly at the boundary', () => {
  const c = new LocalCounters([1000], [4]);
  const base = 1_700_000_000_000; // a whole second
  for (let i = 0; i < 4; i++) assert.equal(c.take('k', base + i).allowed, true, `request ${i + 1}`);
  assert.equal(c.take('k', base + 999).allowed, false, 'fifth request in the same second');
  assert.equal(c.take('k', base + 999).counts[0], 4, 'a rejected request consumes nothing');
  assert.equal(c.take('k', base + 1000).allowed, true, 'first millisecond of the next window');
  assert.equal(c.take('k', base + 1000).counts[0], 2);
});

test('local counters: hour and day windows are exact at their boundaries (UTC, aligned to the epoch)', () => {
  const HOUR = 3_600_000, DAY = 86_400_000;
  const c = new LocalCounters([HOUR, DAY], [3, 5]);
  const midnight = Date.UTC(2026, 11, 7); // 2026-12-07T00:00:00Z
  const lastHour = midnight - HOUR; // 23:00 the day before
  for (let i = 0; i < 3; i++) assert.equal(c.take('k', lastHour + i * 1000).allowed, true, `request ${i + 1} at 23:00`);
  assert.equal(c.take('k', midnight - 1).allowed, false, 'fourth request in the hour, at 23:59:59.999');
  assert.deepEqual([...c.take('k', midnight - 1).counts], [3, 3], 'the day counted the three, not the rejection');
  assert.equal(c.take('k', midnight).allowed, true, 'midnight opens a new hour and a new day');
  assert.deepEqual([...c.take('k', midnight).counts], [2, 2]);
  assert.equal(c.take('k', midnight + HOUR - 1).allowed, true, 'third request of the hour');
  assert.equal(c.take('k', midnight + HOUR).allowed, true, '01:00, new hour; fourth of the day');
  assert.equal(c.take('k', midnight + HOUR + 1).allowed, true, 'fifth of the day');
  assert.equal(c.take('k', midnight + DAY - 1).allowed, false, 'day limit holds until 23:59:59.999');
  assert.equal(c.take('k', midnight + DAY).allowed, true, 'next day');
});

test('plugin: hour and day limits send their X-RateLimit headers and reset at the window end', async () => {
  const midnight = Date.UTC(2026, 11, 7);
  const t = clock(midnight - 1000);
  const h = limiter({ hour: 2, day: 10, limitBy: 'ip' }, t.now);
  const r = makeReq();
  assert.equal(await h.onRequest(r), undefined);
  assert.deepEqual(r.responseHeaders, {
    'x-ratelimit-limit-hour': '2', 'x-ratelimit-remaining-hour': '1',
    'x-ratelimit-limit-day': '10', 'x-ratelimit-remaining-day': '9',
    'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '1',
  });
  assert.equal(await h.onRequest(makeReq()), undefined);
  const limited = await h.onRequest(makeReq());
  assert.equal(limited?.status, 429);
  assert.equal(limited?.headers?.['retry-after'], '1', 'one second to the next hour');
  t.set(midnight);
  const next = makeReq();
  assert.equal(await h.onRequest(next), undefined, 'the new hour (and day) at midnight');
  assert.equal(next.responseHeaders['x-ratelimit-remaining-day'], '9');
  assert.equal(next.responseHeaders['ratelimit-reset'], '3600', 'the hour is the tighter window: it resets in an hour');
});

test('local counters: every window must have room; a rejection by one consumes from none', () => {
  const c = new LocalCounters([1000, 60_000], [2, 3]);
  const t0 = 1_700_000_040_000;
  assert.equal(c.take('k', t0).allowed, true);
  assert.equal(c.take('k', t0 + 1).allowed, true);
  assert.equal(c.take('k', t0 + 2).allowed, false, 'second limit');
  assert.equal(c.take('k', t0 + 1000).allowed, true, 'new second, minute has 1 left');
  assert.equal(c.take('k', t0 + 2000).allowed, false, 'minute limit reached');
  assert.deepEqual([...c.take('k', t0 + 2000).counts], [0, 3]);
  assert.equal(c.take('k', t0 + 59_999).allowed, false, 'last millisecond of the minute');
  assert.equal(c.take('k', t0 + 60_000).allowed, true, 'next minute');
});

test('local counters: stale keys are swept', () => {
  const c = new LocalCounters([1000], [1]);
  c.take('a', 1000); c.take('b', 1000);
  c.take('c', 5000);
  assert.equal(c.size, 1);
});

test('plugin: headers on allowed requests, 429 with Retry-After when limited', async () => {
  const t = clock(1_700_000_000_250);
  const h = limiter({ second: 2, minute: 10, limitBy: 'ip' }, t.now);
  const r1 = makeReq();
  assert.equal(await h.onRequest(r1), undefined);
  assert.deepEqual(r1.responseHeaders, {
    'x-ratelimit-limit-second': '2', 'x-ratelimit-remaining-second': '1',
    'x-ratelimit-limit-minute': '10', 'x-ratelimit-remaining-minute': '9',
    'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '1',
  });
  assert.equal(await h.onRequest(makeReq()), undefined);
  const a = await h.onRequest(makeReq());
  assert.equal(a?.status, 429);
  assert.equal(a?.code, 'RATE_LIMITED');
  assert.equal(a?.headers?.['retry-after'], '1');
  assert.equal(a?.headers?.['x-ratelimit-remaining-second'], '0');
  assert.equal(a?.headers?.['ratelimit-remaining'], '0');
  t.set(1_700_000_001_000);
  assert.equal(await h.onRequest(makeReq()), undefined, 'next second');
});

test('plugin: local decision is synchronous (no Promise per request)', () => {
  const h = limiter({ second: 100 }, Date.now);
  const r = h.onRequest(makeReq());
  assert.ok(!(r instanceof Promise));
});

test('plugin: limitBy consumer, falls back to the client IP for anonymous requests', async () => {
  const t = clock(1_700_000_000_000);
  const h = limiter({ second: 1, limitBy: 'consumer' }, t.now);
  assert.equal(await h.onRequest(makeReq({ consumer: 'alice' })), undefined);
  assert.equal((await h.onRequest(makeReq({ consumer: 'alice' })))?.status, 429);
  assert.equal(await h.onRequest(makeReq({ consumer: 'bob' })), undefined, 'bob has his own budget');
  assert.equal(await h.onRequest(makeReq({ peer: '10.0.0.1' })), undefined);
  assert.equal((await h.onRequest(makeReq({ peer: '10.0.0.1' })))?.status, 429);
});

test('plugin: X-Forwarded-For is believed only from trusted proxies', async () => {
  const t = clock(1_700_000_000_000);
  const h = limiter({ second: 1, limitBy: 'ip', trustedProxies: ['10.0.0.0/8'] }, t.now);
  // Untrusted peer: its XFF is ignored, so changing XFF does not buy a new budget.
  assert.equal(await h.onRequest(makeReq({ peer: '192.0.2.1', headers: { 'x-forwarded-for': '1.1.1.1' } })), undefined);
  assert.equal((await h.onRequest(makeReq({ peer: '192.0.2.1', headers: { 'x-forwarded-for': '2.2.2.2' } })))?.status, 429);
  // Trusted peer: the first untrusted address from the right is the client.
  assert.equal(await h.onRequest(makeReq({ peer: '10.1.1.1', headers: { 'x-forwarded-for': '203.0.113.9, 10.2.2.2' } })), undefined);
  assert.equal((await h.onRequest(makeReq({ peer: '10.3.3.3', headers: { 'x-forwarded-for': '203.0.113.9' } })))?.status, 429);
  assert.equal(await h.onRequest(makeReq({ peer: '10.3.3.3', headers: { 'x-forwarded-for': '203.0.113.10' } })), undefined);
});

test('plugin: limitBy header and route', async () => {
  const t = clock(1_700_000_000_000);
  const byHeader = limiter({ second: 1, limitBy: 'header', headerName: 'X-Tenant' }, t.now);
  assert.equal(await byHeader.onRequest(makeReq({ headers: { 'x-tenant': 'a' } })), undefined);
  assert.equal((await byHeader.onRequest(makeReq({ headers: { 'x-tenant': 'a' } })))?.status, 429);
  assert.equal(await byHeader.onRequest(makeReq({ headers: { 'x-tenant': 'b' } })), undefined);
  const byRoute = limiter({ second: 1, limitBy: 'route' }, t.now, 'p2');
  assert.equal(await byRoute.onRequest(makeReq({ routeId: 'r1', peer: '1.1.1.1' })), undefined);
  assert.equal((await byRoute.onRequest(makeReq({ routeId: 'r1', peer: '2.2.2.2' })))?.status, 429);
  assert.equal(await byRoute.onRequest(makeReq({ routeId: 'r2' })), undefined);
});

test('counters survive a reload of the same policy', async () => {
  const t = clock(1_700_000_000_000);
  const v = validateRateLimit({ second: 1 }, vctx);
  assert.ok(v.ok);
  const rt = runtime(t.now);
  rt.beginCompile();
  const a = rt.compile({ kind: 'rate-limit', id: 'p', config: v.config });
  rt.endCompile();
  assert.equal(await a.onRequest(makeReq()), undefined);
  rt.beginCompile();
  const b = rt.compile({ kind: 'rate-limit', id: 'p', config: v.config });
  rt.endCompile();
  assert.equal((await b.onRequest(makeReq()))?.status, 429);
});

test('validation names the field', () => {
  const bad = validateRateLimit({ second: 0, limitBy: 'user', policy: 'redis' }, vctx);
  assert.equal(bad.ok, false);
  const fields = bad.ok ? [] : bad.errors.map((e) => e.field);
  assert.deepEqual(fields, ['spec.rateLimit.second', 'spec.rateLimit.limitBy', 'spec.rateLimit.redis']);
  const none = validateRateLimit({}, vctx);
  assert.equal(none.ok, false);
  assert.match(none.ok ? '' : none.errors[0]!.message, /at least one of second, minute, hour, day/);
});

test('header counts are the exact decimal text of the remaining count, small or large', () => {
  const limit = 5_000_000_000;
  const layout = new HeaderLayout(['second'], [limit]);
  const remaining = [0, 1, 60, 61, 999, 1000, 1001, 1099, 100_000, 999_999_999, 1_000_000_007, limit];
  for (let n = 0; n < 20_000; n += 13) remaining.push(n);
  for (const n of remaining) {
    const lines = rateLimitLines(layout, [1000], [limit], [limit - n], [0], 0);
    assert.ok(lines.includes(`\r\nx-ratelimit-remaining-second: ${n}\r\n`), `${n}: ${lines}`);
    assert.equal(limitedHeaders(layout, [1000], [limit], [limit - n], [0], 0, false)['x-ratelimit-remaining-second'], String(n));
  }
  for (const n of [1_000_000, 1_000_001, 1_234_567_890_123, Number.MAX_SAFE_INTEGER]) assert.equal(decimal(n), String(n));
});
