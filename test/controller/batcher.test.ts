import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createBatcher } from '../../src/controller/batcher.ts';

test('batcher: a burst becomes one flush after the hold-off', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const flush = mock.fn();
  const b = createBatcher({ holdOffMs: 100, maxDelayMs: 500, flush });
  b.trigger();
  t.mock.timers.tick(50);
  b.trigger();
  t.mock.timers.tick(50);
  b.trigger();
  t.mock.timers.tick(99);
  assert.equal(flush.mock.callCount(), 0);
  t.mock.timers.tick(1);
  assert.equal(flush.mock.callCount(), 1);
  assert.equal(b.pending(), 0);
});

test('batcher: a steady trickle is still flushed within the maximum delay', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const flush = mock.fn();
  const b = createBatcher({ holdOffMs: 100, maxDelayMs: 500, flush });
  let flushedAt = -1;
  for (let ms = 0; ms <= 1000; ms += 50) {
    b.trigger();
    t.mock.timers.tick(50);
    if (flush.mock.callCount() === 1 && flushedAt < 0) flushedAt = ms + 50;
  }
  assert.ok(flushedAt > 0 && flushedAt <= 500, `first flush at ${flushedAt} ms`);
  assert.ok(flush.mock.callCount() >= 2);
  b.close();
});

test('batcher: nothing fires after close', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const flush = mock.fn();
  const b = createBatcher({ flush });
  b.trigger();
  b.close();
  b.trigger();
  t.mock.timers.tick(1000);
  assert.equal(flush.mock.callCount(), 0);
});
