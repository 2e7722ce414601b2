// The resource builder patches its previous result when only some files changed; whatever the
// sequence of file sets, each result must equal what a fresh builder makes of the same files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createResourceBuilder, type LocatedObject } from '../../src/standalone/to-resources.ts';
import type { KindInfo } from '../../src/standalone/validate-document.ts';

const ROUTE = { list: 'httpRoutes', namespaced: true } as unknown as KindInfo;
const SERVICE = { list: 'services', namespaced: true } as unknown as KindInfo;

/** One file: objects named from a small space, so duplicates and namespace churn happen. */
const arbFile = fc.array(
  fc.record({ kind: fc.constantFrom('HTTPRoute', 'Service'), ns: fc.constantFrom('a', 'b', undefined), name: fc.constantFrom('x', 'y', 'z', 'w', 'v') }),
  { maxLength: 4 },
);

test('builder: patched results equal fresh builds over any sequence of file sets (property)', () => {
  fc.assert(fc.property(
    fc.array(arbFile, { minLength: 1, maxLength: 5 }),
    fc.array(fc.array(fc.nat(4), { maxLength: 5 }), { minLength: 1, maxLength: 8 }),
    (pool, steps) => {
      // Each file of the pool is one located array, reused as long as the file is in a step:
      // the loader hands the same array for an unchanged file.
      const files = pool.map((docs, f) => docs.map((d, i): LocatedObject => ({
        file: `f${f}.yaml`, document: i, info: d.kind === 'HTTPRoute' ? ROUTE : SERVICE,
        object: { apiVersion: 'v1', kind: d.kind, metadata: { name: d.name, ...(d.ns === undefined ? {} : { namespace: d.ns }) } },
      })));
      const builder = createResourceBuilder();
      for (const step of steps) {
        const set = [...new Set(step.filter((k) => k < files.length))].sort((x, y) => x - y).map((k) => files[k]!);
        assert.deepEqual(builder.build(set), createResourceBuilder().build(set));
      }
    }), { numRuns: 500 });
});
