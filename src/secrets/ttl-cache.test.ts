import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../util/clock.js';
import { TtlCache } from './ttl-cache.js';

/** A load the test finishes by hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('TtlCache', () => {
  it('reuses a value for its TTL, then loads again', async () => {
    const clock = new ManualClock();
    const cache = new TtlCache<number>(clock, 1000, 10);
    let loads = 0;
    const load = async () => ++loads;
    assert.equal(await cache.get('k', load), 1);
    clock.advance(999);
    assert.equal(await cache.get('k', load), 1);
    clock.advance(1);
    assert.equal(await cache.get('k', load), 2);
  });

  it('shares one load between concurrent misses', async () => {
    const cache = new TtlCache<string>(new ManualClock(), 1000, 10);
    const d = deferred<string>();
    let loads = 0;
    const load = () => (loads++, d.promise);
    const both = Promise.all([cache.get('k', load), cache.get('k', load)]);
    d.resolve('v');
    assert.deepEqual(await both, ['v', 'v']);
    assert.equal(loads, 1);
  });

  it('does not keep a value whose load started before an invalidation', async () => {
    const cache = new TtlCache<string>(new ManualClock(), 60_000, 10);
    const stale = deferred<string>();
    const pending = cache.get('k', () => stale.promise);
    cache.invalidate('k');
    stale.resolve('old');
    assert.equal(await pending, 'old');
    assert.equal(await cache.get('k', async () => 'new'), 'new');
  });

  it('does not keep a failed load', async () => {
    const cache = new TtlCache<string>(new ManualClock(), 60_000, 10);
    await assert.rejects(cache.get('k', async () => Promise.reject(new Error('store down'))));
    assert.equal(await cache.get('k', async () => 'v'), 'v');
  });

  it('keeps at most max entries, dropping the oldest loaded', async () => {
    const cache = new TtlCache<string>(new ManualClock(), 60_000, 2);
    for (const k of ['a', 'b', 'c']) await cache.get(k, async () => k);
    assert.equal(await cache.get('a', async () => 'reloaded'), 'reloaded');
    assert.equal(await cache.get('c', async () => 'reloaded'), 'c');
  });
});
