// Properties of translate(): deterministic whatever the input order, and total (never throws)
// on malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { translate } from '../../src/translate/index.ts';
import type { Resources } from '../../src/translate/resources.ts';
import { OPTIONS, parseResources, renderGolden } from './harness.ts';

const dir = join(import.meta.dirname, 'testdata');
const inputs = readdirSync(dir).filter((f) => f.endsWith('.in.yaml')).sort()
  .map((f) => parseResources(readFileSync(join(dir, f), 'utf8')));

function shuffled(r: Resources, seed: number): Resources {
  let s = seed >>> 0 || 1;
  const rand = (): number => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) / 2 ** 32; };
  const out: Record<string, unknown[]> = {};
  for (const [k, list] of Object.entries(r) as [string, unknown[]][]) {
    const copy = [...list];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    out[k] = copy;
  }
  return out as unknown as Resources;
}

/** One golden input with everything in one list, so cross-file objects meet. */
function merged(): Resources {
  const out: Record<string, unknown[]> = {};
  for (const r of inputs) for (const [k, list] of Object.entries(r) as [string, unknown[]][]) (out[k] ??= []).push(...list);
  return out as unknown as Resources;
}

test('translate is deterministic: shuffled input gives byte-identical output', () => {
  for (const [i, r] of inputs.entries()) {
    const want = renderGolden(translate(r, OPTIONS));
    for (const seed of [1, 2, 3]) assert.equal(renderGolden(translate(shuffled(r, seed * 7919 + i), OPTIONS)), want, `input #${i}, seed ${seed}`);
  }
});

test('translate is deterministic on all golden inputs merged together', () => {
  const all = merged();
  const want = renderGolden(translate(all, OPTIONS));
  for (const seed of [11, 12, 13]) assert.equal(renderGolden(translate(shuffled(all, seed), OPTIONS)), want);
});

test('translate never throws on arbitrary resources', () => {
  const lists = ['gatewayClasses', 'gateways', 'httpRoutes', 'grpcRoutes', 'referenceGrants', 'namespaces', 'services', 'endpointSlices', 'secrets'];
  fc.assert(fc.property(fc.anything(), (x) => { translate(x as Resources, OPTIONS); }), { numRuns: 200 });
  fc.assert(fc.property(fc.dictionary(fc.constantFrom(...lists), fc.array(fc.anything({ withNullPrototype: true }), { maxLength: 4 })), (x) => {
    translate(x as unknown as Resources, OPTIONS);
  }), { numRuns: 300 });
});

/** Every path (list of keys) to a value inside `x`. */
function paths(x: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (x !== null && typeof x === 'object') {
    for (const [k, v] of Object.entries(x)) paths(v, [...prefix, Array.isArray(x) ? Number(k) : k], out);
  }
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy: Record<string | number, unknown> = Array.isArray(root) ? [...root] as unknown as Record<number, unknown> : { ...(root as object) };
  copy[head!] = setAt(copy[head!], rest, value);
  return copy;
}

test('translate never throws when any field of a golden input is replaced by garbage', () => {
  const all = merged();
  const allPaths = paths(all);
  const garbage = fc.oneof(fc.anything(), fc.constantFrom(null, undefined, '', 0, -1, 1e308, NaN, [], {}, '*', '*.', '/', '(', 'x'.repeat(300)));
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(), garbage), { minLength: 1, maxLength: 6 }), (edits) => {
    let r: unknown = all;
    for (const [i, v] of edits) r = setAt(r, allPaths[i % allPaths.length]!, v);
    const result = translate(r as Resources, OPTIONS);
    JSON.stringify(result); // plain data all the way down
  }), { numRuns: 300 });
});

test('translate never throws when the options misbehave', () => {
  const r = merged();
  translate(r, { controllerName: OPTIONS.controllerName, validateRegex: () => { throw new Error('boom'); }, gatewayAddress: () => { throw new Error('boom'); } });
  translate(r, undefined as never);
});
