import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentId, TaskId } from '../domain/index.js';
import { markVerified } from '../pipeline/verified-credential.js';
import { InFlightCalls } from './in-flight-calls.js';

const cred = (task: string, jti = `jti-${task}`) =>
  markVerified({ agentId: 'agt_a' as AgentId, taskId: task as TaskId, jti, scope: ['x.*'], jkt: 'k', exp: 2e9, onBehalfOf: null });

describe('InFlightCalls', () => {
  it('attributes nothing when no call is in flight', () => {
    assert.deepEqual(new InFlightCalls().attribute('files'), { kind: 'none', reason: 'no-call-in-flight' });
  });

  it('attributes to the one task with calls in flight, with its newest credential', () => {
    const calls = new InFlightCalls();
    const a = calls.begin('files', cred('tsk_a', 'old'));
    calls.begin('files', cred('tsk_a', 'new'));
    calls.begin('other', cred('tsk_b'));
    const got = calls.attribute('files');
    assert.equal(got.kind, 'task');
    assert.equal(got.kind === 'task' && got.cred.jti, 'new');
    a.end();
    assert.equal(calls.credential(a.id), undefined);
  });

  it('attributes to no one when two tasks have calls in flight to the same upstream', () => {
    const calls = new InFlightCalls();
    calls.begin('files', cred('tsk_a'));
    const b = calls.begin('files', cred('tsk_b'));
    assert.deepEqual(calls.attribute('files'), { kind: 'none', reason: 'several-tasks' });
    b.end();
    assert.equal(calls.attribute('files').kind, 'task');
  });

  it('knows the credential of one call by its id, until it ends', () => {
    const calls = new InFlightCalls();
    const c = cred('tsk_x');
    const call = calls.begin('shell', c);
    assert.equal(calls.credential(call.id), c);
    call.end();
    assert.equal(calls.credential(call.id), undefined);
  });
});
