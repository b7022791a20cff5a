import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallsInFlight } from './calls-in-flight.js';

describe('CallsInFlight', () => {
  it('counts each call while it runs, and no longer once it resolved or failed', async () => {
    const inFlight = new CallsInFlight();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const seen: number[] = [];
    const a = inFlight.around(async () => {
      seen.push(inFlight.count);
      await held;
      return 'a';
    });
    const b = inFlight.around(async () => {
      seen.push(inFlight.count);
      throw new Error('refused');
    });
    await assert.rejects(b, /refused/);
    assert.deepEqual(seen, [1, 2]);
    assert.equal(inFlight.count, 1, 'the failed call is no longer counted, the held one still is');
    release();
    assert.equal(await a, 'a');
    assert.equal(inFlight.count, 0);
  });
});
