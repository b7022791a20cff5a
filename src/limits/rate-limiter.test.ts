import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('lets a burst through, then one call per refill interval, per key', () => {
    let t = 0;
    const rl = new RateLimiter(2, 3, () => t);
    for (let i = 0; i < 3; i++) assert.deepEqual(rl.take('a'), { ok: true });
    assert.deepEqual(rl.take('a'), { ok: false, retryAfterMs: 500 });
    assert.deepEqual(rl.take('b'), { ok: true }, 'another agent has its own bucket');
    t = 499;
    assert.equal(rl.take('a').ok, false);
    t = 1000;
    assert.deepEqual(rl.take('a'), { ok: true });
  });

  it('never stores more than the burst, however long a key was idle', () => {
    let t = 0;
    const rl = new RateLimiter(10, 2, () => t);
    t = 3_600_000;
    assert.equal(rl.take('a').ok, true);
    assert.equal(rl.take('a').ok, true);
    assert.equal(rl.take('a').ok, false);
  });

  it('refuses nonsense settings', () => {
    assert.throws(() => new RateLimiter(0, 1), TypeError);
    assert.throws(() => new RateLimiter(1, 0), TypeError);
  });
});
