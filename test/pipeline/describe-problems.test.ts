// The problem tracker reuses the lines of statuses it saw last time: whatever the sequence of
// status lists, it must say exactly what describeProblems says from scratch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createProblemTracker, describeProblems } from '../../src/pipeline/describe-problems.ts';
import type { ObjectStatus } from '../../src/translate/index.ts';

function status(i: number, healthy: boolean): ObjectStatus {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', namespace: 'ns', name: `r${String(i).padStart(3, '0')}`,
    status: { parents: [{ parentRef: { name: 'gw' }, conditions: [{ type: 'Accepted', status: healthy ? 'True' : 'False', reason: healthy ? 'Accepted' : 'NotAllowedByListeners', message: `route ${i}` }] }] },
  } as unknown as ObjectStatus;
}

test('problem tracker: same lines as describeProblems over any sequence of status lists (property)', () => {
  const pool = Array.from({ length: 30 }, (_, i) => status(i, i % 3 !== 0));
  fc.assert(fc.property(fc.array(fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), { minLength: 1, maxLength: 8 }), (steps) => {
    const tracker = createProblemTracker();
    for (const keep of steps) {
      const statuses = pool.filter((_, i) => keep[i]);
      assert.deepEqual(tracker.describe(statuses), describeProblems(statuses));
    }
  }), { numRuns: 300 });
});

test('problem tracker: a changed status object is described anew', () => {
  const tracker = createProblemTracker();
  assert.deepEqual(tracker.describe([status(1, true)]), []);
  assert.deepEqual(tracker.describe([status(1, false)]), ['HTTPRoute ns/r001 parent Gateway gw: Accepted=False NotAllowedByListeners: route 1']);
});
