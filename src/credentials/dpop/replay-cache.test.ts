import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayCache } from './replay-cache.js';

const WINDOW = 60_000;
const T0 = Date.UTC(2026, 0, 1);

describe('ReplayCache', () => {
  it('accepts a key once and refuses it again within the window', () => {
    const cache = new ReplayCache(WINDOW, T0);
    assert.equal(cache.useOnce('jkt:jti-1', T0), true);
    assert.equal(cache.useOnce('jkt:jti-1', T0 + 1), false);
    assert.equal(cache.useOnce('jkt:jti-1', T0 + WINDOW - 1), false);
  });

  it('keeps different keys apart', () => {
    const cache = new ReplayCache(WINDOW, T0);
    assert.equal(cache.useOnce('a', T0), true);
    assert.equal(cache.useOnce('b', T0), true);
    assert.equal(cache.useOnce('a', T0), false);
  });

  it('still refuses a key after one rotation', () => {
    const cache = new ReplayCache(WINDOW, T0);
    assert.equal(cache.useOnce('late', T0 + WINDOW - 1), true);
    assert.equal(cache.useOnce('other', T0 + WINDOW), true);
    assert.equal(cache.useOnce('late', T0 + WINDOW), false);
    assert.equal(cache.useOnce('late', T0 + 2 * WINDOW - 1), false);
  });

  it('forgets a key after two windows', () => {
    const cache = new ReplayCache(WINDOW, T0);
    assert.equal(cache.useOnce('k', T0), true);
    assert.equal(cache.useOnce('x', T0 + WINDOW), true);
    assert.equal(cache.useOnce('k', T0 + 2 * WINDOW), true);
  });

  it('forgets everything after a quiet spell of two windows', () => {
    const cache = new ReplayCache(WINDOW, T0);
    assert.equal(cache.useOnce('k', T0), true);
    assert.equal(cache.useOnce('k', T0 + 2 * WINDOW), true);
    assert.equal(cache.useOnce('k', T0 + 2 * WINDOW + 1), false);
  });

  it('refuses new keys when full instead of forgetting ones still in the window', () => {
    const cache = new ReplayCache(WINDOW, T0, 2);
    assert.equal(cache.useOnce('a', T0), true);
    assert.equal(cache.useOnce('b', T0), true);
    assert.equal(cache.useOnce('c', T0), false);
    assert.equal(cache.useOnce('a', T0), false);
    // Entries of the previous window still count against the bound.
    assert.equal(cache.useOnce('c', T0 + WINDOW), false);
    assert.equal(cache.useOnce('a', T0 + WINDOW), false);
  });

  it('accepts again once full entries have aged out', () => {
    const cache = new ReplayCache(WINDOW, T0, 2);
    cache.useOnce('a', T0);
    cache.useOnce('b', T0);
    assert.equal(cache.useOnce('c', T0 + 2 * WINDOW), true);
  });
});
