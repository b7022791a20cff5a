import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayScript } from './replay-script.js';

const step = { tool: 'send_money', args: { amount: 1 }, result: 'sent' };

describe('the replay script', () => {
  it('answers the armed step once, with its recorded result', () => {
    const s = new ReplayScript();
    s.arm('banking', step);
    assert.deepEqual(s.answer('banking', 'send_money'), { kind: 'result', text: 'sent' });
    assert.deepEqual(s.settle(), { forwarded: true, unexpected: [] });
  });

  it('settles a step Warden did not forward as not forwarded', () => {
    const s = new ReplayScript();
    s.arm('banking', step);
    assert.deepEqual(s.settle(), { forwarded: false, unexpected: [] });
  });

  it('refuses a call of another tool or suite, a second call, and a call with nothing armed', () => {
    const s = new ReplayScript();
    assert.equal(s.answer('banking', 'send_money').kind, 'unexpected');
    s.arm('banking', step);
    assert.equal(s.answer('banking', 'get_balance').kind, 'unexpected');
    assert.equal(s.answer('slack', 'send_money').kind, 'unexpected');
    assert.equal(s.answer('banking', 'send_money').kind, 'result');
    assert.equal(s.answer('banking', 'send_money').kind, 'unexpected');
    const settled = s.settle();
    assert.equal(settled.forwarded, true);
    assert.equal(settled.unexpected.length, 4);
    assert.match(settled.unexpected[1]!, /banking\.get_balance called where banking\.send_money was expected/);
  });

  it('is used in order: arm, then settle', () => {
    const s = new ReplayScript();
    assert.throws(() => s.settle(), TypeError);
    s.arm('banking', step);
    assert.throws(() => s.arm('banking', step), TypeError);
  });
});
