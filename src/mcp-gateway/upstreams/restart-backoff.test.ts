import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../util/clock.js';
import { RestartBackoff } from './restart-backoff.js';

describe('RestartBackoff', () => {
  it('allows the first restart at once, then doubles up to the cap', () => {
    const clock = new ManualClock();
    const backoff = new RestartBackoff(clock, { baseMs: 500, maxMs: 2_000 });
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      backoff.failed();
      waits.push(backoff.remainingMs());
    }
    assert.deepEqual(waits, [0, 500, 1_000, 2_000, 2_000]);
    clock.advance(1_500);
    assert.equal(backoff.remainingMs(), 500);
    backoff.succeeded();
    assert.equal(backoff.remainingMs(), 0);
    assert.equal(backoff.failures, 0);
  });
});
