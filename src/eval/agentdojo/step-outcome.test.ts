import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { approvalOf, classifyRefusal, isInterruption } from './step-outcome.js';

const refusal = (code: string, details?: Record<string, unknown>) => new McpError(-32001, 'refused', { code, ...(details ? { details } : {}) });

describe('classifying a refused call', () => {
  it('takes a policy denial, a failed evaluation and a secret in the arguments for denials, naming the policies', () => {
    assert.deepEqual(classifyRefusal(refusal('POLICY_DENIED', { policies: ['no-transfers'] })), { kind: 'denied', code: 'POLICY_DENIED', policies: ['no-transfers'] });
    assert.equal(classifyRefusal(refusal('POLICY_EVALUATION_FAILED')).kind, 'denied');
    assert.equal(classifyRefusal(refusal('SECRET_IN_ARGUMENTS')).kind, 'denied');
  });

  it('takes APPROVAL_PENDING for a held call, and finds its approval', () => {
    const err = refusal('APPROVAL_PENDING', { approval: 'apr_123' });
    assert.equal(classifyRefusal(err).kind, 'held');
    assert.equal(approvalOf(err), 'apr_123');
    assert.equal(approvalOf(new Error('x')), undefined);
  });

  it('takes any other refusal for a failed call, which is no interruption', () => {
    const c = classifyRefusal(refusal('TOOL_NOT_FOUND'));
    assert.deepEqual(c, { kind: 'failed', code: 'TOOL_NOT_FOUND' });
    assert.equal(isInterruption(c.kind), false);
    assert.equal(classifyRefusal(new McpError(-32603, 'boom')).code, 'MCP_-32603');
  });

  it('throws on again what is not a refusal: a broken replay must not pass for a decision', () => {
    const broken = new TypeError('fetch failed');
    assert.throws(() => classifyRefusal(broken), (e: unknown) => e === broken);
  });
});
