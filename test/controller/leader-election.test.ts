import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLeaderElector, microTime } from '../../src/controller/leader-election.ts';
import type { LeaseApi, LeaseRecord, LeaseState } from '../../src/controller/leader-election.ts';
import { createLogger } from '../../src/observability/index.ts';

/** An in-memory Lease with resourceVersion semantics, and an off switch for outages. */
function fakeLease(): LeaseApi & { state: LeaseState | undefined; down: boolean } {
  let rv = 0;
  const api = {
    state: undefined as LeaseState | undefined,
    down: false,
    async get() {
      if (api.down) throw new Error('connection refused');
      return api.state;
    },
    async create(record: LeaseRecord) {
      if (api.down) throw new Error('connection refused');
      if (api.state !== undefined) return 'conflict' as const;
      api.state = { record, resourceVersion: String(++rv) };
      return 'ok' as const;
    },
    async update(record: LeaseRecord, resourceVersion: string) {
      if (api.down) throw new Error('connection refused');
      if (api.state?.resourceVersion !== resourceVersion) return 'conflict' as const;
      api.state = { record, resourceVersion: String(++rv) };
      return 'ok' as const;
    },
  };
  return api;
}

function elector(api: LeaseApi, identity: string, clock: { t: number }) {
  const events: string[] = [];
  const e = createLeaderElector({
    api, identity, leaseDurationMs: 10_000, renewDeadlineMs: 7_000, retryPeriodMs: 2_000,
    onStartedLeading: () => events.push('start'), onStoppedLeading: () => events.push('stop'),
    logger: createLogger('silent'), now: () => clock.t,
  });
  return { e, events };
}

test('leader election: the first candidate creates the Lease and leads; the second follows', async () => {
  const api = fakeLease();
  const clock = { t: 1_000_000 };
  const a = elector(api, 'a', clock);
  const b = elector(api, 'b', clock);
  await a.e.tick();
  await b.e.tick();
  assert.equal(a.e.isLeader(), true);
  assert.equal(b.e.isLeader(), false);
  assert.equal(api.state?.record.holderIdentity, 'a');
  assert.deepEqual(a.events, ['start']);
  assert.deepEqual(b.events, []);
});

test('leader election: a renewing leader keeps the Lease; renewals keep acquireTime and transitions', async () => {
  const api = fakeLease();
  const clock = { t: 1_000_000 };
  const a = elector(api, 'a', clock);
  const b = elector(api, 'b', clock);
  await a.e.tick();
  const acquired = api.state?.record.acquireTime;
  for (let i = 0; i < 20; i++) {
    clock.t += 2_000;
    await a.e.tick();
    await b.e.tick();
  }
  assert.equal(a.e.isLeader(), true);
  assert.equal(b.e.isLeader(), false);
  assert.equal(api.state?.record.acquireTime, acquired);
  assert.equal(api.state?.record.renewTime, microTime(clock.t));
  assert.equal(api.state?.record.leaseTransitions, 0);
});

test('leader election: a dead leader is replaced once leaseDuration passed since the follower saw it renew', async () => {
  const api = fakeLease();
  const clock = { t: 1_000_000 };
  const a = elector(api, 'a', clock);
  const b = elector(api, 'b', clock);
  await a.e.tick();
  await b.e.tick(); // b observes the record now
  // a dies (no more ticks). b retries every 2 s.
  let tookOverAfter = -1;
  for (let waited = 2_000; waited <= 20_000; waited += 2_000) {
    clock.t += 2_000;
    await b.e.tick();
    if (b.e.isLeader()) {
      tookOverAfter = waited;
      break;
    }
  }
  assert.equal(tookOverAfter, 10_000, 'after exactly leaseDuration');
  assert.equal(api.state?.record.holderIdentity, 'b');
  assert.equal(api.state?.record.leaseTransitions, 1);
});

test('leader election: a leader that cannot renew steps down after renewDeadline', async () => {
  const api = fakeLease();
  const clock = { t: 1_000_000 };
  const a = elector(api, 'a', clock);
  await a.e.tick();
  api.down = true;
  clock.t += 6_000;
  await a.e.tick();
  assert.equal(a.e.isLeader(), true, 'within renewDeadline it still leads');
  clock.t += 2_000;
  await a.e.tick();
  assert.equal(a.e.isLeader(), false);
  assert.deepEqual(a.events, ['start', 'stop']);
  api.down = false;
  clock.t += 2_000;
  await a.e.tick();
  assert.equal(a.e.isLeader(), true, 'its own Lease: reacquired at once');
});

test('leader election: a conflicting update (someone else renewed first) does not make us leader', async () => {
  const api = fakeLease();
  const clock = { t: 1_000_000 };
  const b = elector(api, 'b', clock);
  api.state = { record: { holderIdentity: '', leaseDurationSeconds: 10 }, resourceVersion: '7' };
  const realUpdate = api.update.bind(api);
  api.update = async (record, rv) => {
    api.state = { record: { holderIdentity: 'c', leaseDurationSeconds: 10, renewTime: microTime(clock.t) }, resourceVersion: '8' };
    return realUpdate(record, rv);
  };
  await b.e.tick();
  assert.equal(b.e.isLeader(), false);
});

test('leader election: stop releases the Lease so a follower takes over on its next retry', async () => {
  const api = fakeLease();
  const clock = { t: 1_000_000 };
  const a = elector(api, 'a', clock);
  const b = elector(api, 'b', clock);
  await a.e.tick();
  await b.e.tick();
  await a.e.stop();
  assert.equal(a.e.isLeader(), false);
  assert.equal(api.state?.record.holderIdentity, '');
  clock.t += 2_000;
  await b.e.tick();
  assert.equal(b.e.isLeader(), true);
});
