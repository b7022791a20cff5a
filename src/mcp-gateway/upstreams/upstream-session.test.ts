import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WardenError } from '../../errors/warden-error.js';
import { UpstreamSession } from './upstream-session.js';

describe('UpstreamSession.guard', () => {
  it('passes results and errors through, and keeps nothing of a settled call', async () => {
    const s = new UpstreamSession();
    for (let i = 0; i < 1000; i++) assert.equal(await s.guard(Promise.resolve(i)), i);
    await assert.rejects(s.guard(Promise.reject(new Error('upstream said no'))), /upstream said no/);
    // A shared "lost" promise raced by every call kept one reaction per call for the session's
    // whole life: with the result of every call in it (found by the leak check in the bench).
    assert.equal(s.calls, 0);
  });

  it('fails the calls in flight with the cause when the session dies, and later calls at once', async () => {
    const s = new UpstreamSession();
    const never = new Promise<never>(() => {});
    const a = s.guard(never);
    const b = s.guard(never);
    assert.equal(s.calls, 2);
    const cause = new WardenError('UPSTREAM_UNAVAILABLE', { upstream: 'files', reason: 'exited' });
    assert.equal(s.die(cause), true);
    await assert.rejects(a, (err) => err === cause);
    await assert.rejects(b, (err) => err === cause);
    assert.equal(s.calls, 0);
    await assert.rejects(s.guard(Promise.resolve(1)), (err) => err === cause);
    assert.equal(s.die(new WardenError('UPSTREAM_UNAVAILABLE', { upstream: 'files', reason: 'again' })), false, 'the first cause wins');
  });

  it('leaves no unhandled rejection when a guarded call fails after the session died', async () => {
    const s = new UpstreamSession();
    let fail!: (e: Error) => void;
    const work = new Promise<never>((_, reject) => (fail = reject));
    const guarded = s.guard(work);
    s.die(new WardenError('UPSTREAM_UNAVAILABLE', { upstream: 'files', reason: 'exited' }));
    await assert.rejects(guarded);
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown) => unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    fail(new Error('late'));
    await new Promise((r) => setImmediate(r));
    process.off('unhandledRejection', onUnhandled);
    assert.deepEqual(unhandled, []);
  });
});
