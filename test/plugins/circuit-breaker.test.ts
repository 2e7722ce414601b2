// Circuit breaker: opens after N consecutive failures, answers 503 while open, one probe
// after openSeconds (a good one closes, a bad one reopens); state survives a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCircuitBreaker } from '../../src/plugins/circuit-breaker/validate.ts';
import type { PluginHooks, PluginRequest } from '../../src/plugins/index.ts';
import { clock, makeReq, runtime } from './helpers.ts';

function request(h: PluginHooks): { req: PluginRequest; answer: ReturnType<PluginHooks['onRequest']> } {
  const req = makeReq();
  return { req, answer: h.onRequest(req) };
}

function respond(req: PluginRequest, status: number): void {
  for (const hook of req.pluginResHooks ?? []) hook(status, {});
}

test('opens after consecutive failures, probes after openSeconds, closes on success', () => {
  const t = clock(1_000_000);
  const v = validateCircuitBreaker({ consecutiveFailures: 3, openSeconds: 10 }, { field: 'spec.circuitBreaker', namespace: 'd', consumers: [], secret: () => undefined });
  assert.ok(v.ok);
  const rt = runtime(t.now);
  rt.beginCompile();
  const h = rt.compile({ kind: 'circuit-breaker', id: 'cb', config: v.config });
  rt.endCompile();
  for (const s of [502, 200, 503, 504]) respond(request(h).req, s); // a success in between resets the count
  assert.equal(request(h).answer, undefined, 'two failures in a row: still closed');
  const third = request(h);
  respond(third.req, 500);
  const blocked = request(h).answer as { status: number; code: string; headers: Record<string, string> };
  assert.equal(blocked.status, 503);
  assert.equal(blocked.code, 'CIRCUIT_OPEN');
  assert.equal(blocked.headers['retry-after'], '10');
  t.advance(10_000);
  const probe = request(h);
  assert.equal(probe.answer, undefined, 'half-open: one probe');
  assert.equal((request(h).answer as { status: number }).status, 503, 'others wait for the probe');
  respond(probe.req, 503);
  assert.equal((request(h).answer as { status: number }).status, 503, 'a failed probe reopens');
  t.advance(10_000);
  const probe2 = request(h);
  respond(probe2.req, 200);
  assert.equal(request(h).answer, undefined, 'a good probe closes');
  // A reload with the same config keeps the state.
  rt.beginCompile();
  const again = rt.compile({ kind: 'circuit-breaker', id: 'cb', config: v.config });
  rt.endCompile();
  for (let i = 0; i < 3; i++) respond(request(again).req, 502);
  assert.equal((request(h).answer as { status: number }).status, 503);
});

test('validation names the field', () => {
  const v = validateCircuitBreaker({ consecutiveFailures: 0, failureStatuses: [200] }, { field: 'spec.circuitBreaker', namespace: 'd', consumers: [], secret: () => undefined });
  assert.deepEqual(v.ok ? [] : v.errors.map((e) => e.field), ['spec.circuitBreaker.consecutiveFailures', 'spec.circuitBreaker.failureStatuses']);
});
