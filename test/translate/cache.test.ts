// The translate cache is an optimisation only: with it, every result must equal the result
// without it, whatever sequence of states it has seen. And it must really reuse work: a route
// whose object and context did not change keeps its IR objects (the proxy relies on that to
// recompile only what changed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { createTranslateCache, translate } from '../../src/translate/index.ts';
import type { Resources } from '../../src/translate/resources.ts';
import { OPTIONS, parseResources } from './harness.ts';

const DIR = new URL('./testdata/', import.meta.url);
const inputs: Resources[] = readdirSync(DIR).filter((f) => f.endsWith('.in.yaml')).sort()
  .map((f) => parseResources(readFileSync(new URL(f, DIR), 'utf8')));

const withCache = (cache: ReturnType<typeof createTranslateCache>) => ({ ...OPTIONS, cache });

test('cache: every golden input, translated in sequence through one cache, equals the uncached result', () => {
  const cache = createTranslateCache();
  for (const pass of [0, 1]) {
    for (const r of inputs) {
      assert.deepEqual(translate(r, withCache(cache)), translate(r, OPTIONS), `pass ${pass}`);
    }
  }
});

test('cache: random subsets of routes and context objects give the uncached result', () => {
  const all = inputs.filter((r) => r.httpRoutes.length >= 2);
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.nat(all.length - 1), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 })), { minLength: 1, maxLength: 8 }),
    (steps) => {
      const cache = createTranslateCache();
      for (const [i, keep] of steps) {
        const base = all[i]!;
        const pick = <T>(list: readonly T[], offset: number): T[] => list.filter((_, j) => keep[(j + offset) % keep.length]);
        const r: Resources = { ...base, httpRoutes: pick(base.httpRoutes, 0), services: pick(base.services, 5), referenceGrants: pick(base.referenceGrants, 9) };
        assert.deepEqual(translate(r, withCache(cache)), translate(r, OPTIONS));
      }
    }), { numRuns: 150 });
});

test('cache: sequences of route sets over a fixed context (the table is patched) give the uncached result', () => {
  const all = inputs.filter((r) => r.httpRoutes.length + r.grpcRoutes.length >= 2);
  fc.assert(fc.property(
    fc.nat(all.length - 1),
    fc.array(fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }), { minLength: 2, maxLength: 10 }),
    (i, steps) => {
      const base = all[i]!;
      const cache = createTranslateCache();
      for (const keep of steps) {
        const pick = <T>(list: readonly T[], offset: number): T[] => list.filter((_, j) => keep[(j + offset) % keep.length]);
        // Only routes change: every other object stays the same, so the cache patches.
        const r: Resources = { ...base, httpRoutes: pick(base.httpRoutes, 0), grpcRoutes: pick(base.grpcRoutes, 7) };
        assert.deepEqual(translate(r, withCache(cache)), translate(r, OPTIONS));
      }
    }), { numRuns: 400 });
});

test('cache: unsorted lists and duplicates after sorted ones (sanitize with hints) give the uncached result', () => {
  const all = inputs.filter((r) => r.httpRoutes.length >= 2);
  fc.assert(fc.property(
    fc.nat(all.length - 1),
    fc.array(fc.array(fc.nat(20), { maxLength: 12 }), { minLength: 2, maxLength: 6 }),
    (i, steps) => {
      const base = all[i]!;
      const cache = createTranslateCache();
      for (const order of steps) {
        // Any order, repeats allowed: a sorted prefix of the previous list plus strays.
        const httpRoutes = [...base.httpRoutes.slice(0, order.length % (base.httpRoutes.length + 1)), ...order.map((k) => base.httpRoutes[k % base.httpRoutes.length]!)];
        const r: Resources = { ...base, httpRoutes };
        assert.deepEqual(translate(r, withCache(cache)), translate(r, OPTIONS));
      }
    }), { numRuns: 300 });
});

test('cache: adding one route keeps the IR objects of the others and a correct attachedRoutes count', () => {
  const base = inputs.find((r) => r.httpRoutes.length >= 3 && r.gateways.length === 1)!;
  const cache = createTranslateCache();
  const without = { ...base, httpRoutes: base.httpRoutes.slice(1) };
  const first = translate(without, withCache(cache));
  const second = translate(base, withCache(cache));
  assert.deepEqual(second, translate(base, OPTIONS));
  const routesOf = (t: typeof first.table) => new Map(t.listeners.flatMap((l) => l.virtualHosts.flatMap((v) => v.routes)).map((r) => [r.id, r]));
  const before = routesOf(first.table), after = routesOf(second.table);
  let reused = 0;
  for (const [id, r] of before) if (after.get(id) === r) reused++;
  assert.ok(before.size > 0);
  assert.equal(reused, before.size, 'every route of the unchanged HTTPRoutes is the same IR object');
  // And removing it again drops its attachment from the counts.
  assert.deepEqual(translate(without, withCache(cache)), translate(without, OPTIONS));
});

test('cache: a changed Service invalidates the routes that use it', () => {
  const base = inputs.find((r) => r.services.length > 0 && r.httpRoutes.length > 0)!;
  const cache = createTranslateCache();
  translate(base, withCache(cache));
  const changed = { ...base, services: base.services.slice(1) };
  assert.deepEqual(translate(changed, withCache(cache)), translate(changed, OPTIONS));
});
