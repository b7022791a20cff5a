import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { createClientAssertion } from '../../src/sdk/keys.js';
import { BACKENDS, nowSec, registerAgent, startTask, startWarden, tokenRequest, whoami, type TestWarden } from '../support/harness.js';
import { until } from '../support/eventually.js';

describe('two replicas sharing one PostgreSQL', { skip: !BACKENDS.includes('postgres') }, () => {
  // Behind one load balancer both answer to the same public URL.
  const publicUrl = 'http://warden.test';
  let a: TestWarden & { databaseUrl: string | undefined };
  let b: TestWarden;
  before(async () => {
    a = await startWarden('postgres', { publicUrl });
    b = await startWarden('postgres', { publicUrl, databaseUrl: a.databaseUrl! });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  it('lets the second replica reuse the first one\'s admin and verify its tokens', async () => {
    assert.equal(b.adminKey, '', 'only the first start bootstraps an admin');
    const agent = await registerAgent(a);
    const { token } = await startTask(a, agent);
    assert.equal((await whoami(b, token, agent.key)).status, 200);
    assert.equal((await b.admin('GET', `/v1/agents/${agent.id}`, undefined, a.adminKey)).status, 200);
  });

  it('stops a task revoked on one replica at the other', async () => {
    const agent = await registerAgent(a);
    const { token, task } = await startTask(a, agent);
    assert.equal((await whoami(b, token, agent.key)).status, 200);
    assert.equal((await a.admin('POST', `/v1/tasks/${task}/revoke`, {})).status, 200);
    // At the replica that revoked it: the very next request.
    assert.equal((await whoami(a, token, agent.key)).body.error.code, 'CRED_REVOKED');
    // Revocations cross replicas by LISTEN/NOTIFY, not synchronously.
    await until(async () => (await whoami(b, token, agent.key)).body?.error?.code === 'CRED_REVOKED', 'replica B rejects the revoked task', 5000);
  });

  it('stops a suspended agent at the other replica', async () => {
    const agent = await registerAgent(a);
    const { token } = await startTask(a, agent);
    assert.equal((await b.admin('POST', `/v1/agents/${agent.id}/suspend`, {}, a.adminKey)).status, 200);
    await until(async () => (await whoami(a, token, agent.key)).body?.error?.code === 'CRED_REVOKED', 'replica A rejects the suspended agent', 5000);
  });

  it('refuses a client assertion replayed to the other replica', async () => {
    const agent = await registerAgent(a);
    const assertion = await createClientAssertion(agent.key, { agentId: agent.id, audience: `${publicUrl}/oauth/token`, nowSec: nowSec(a) });
    const params = { purpose: 'x', scope: 'github.list_issues' };
    assert.equal((await tokenRequest(a, agent, params, { assertion })).status, 200);
    assert.equal((await tokenRequest(b, agent, params, { assertion })).body.warden_code, 'CLIENT_ASSERTION_REPLAY');
  });

  it('verifies tokens signed with a key the other replica rotated to after it started', async () => {
    const agent = await registerAgent(a);
    const rotated = await a.admin('POST', '/v1/signing-keys/rotate', {});
    assert.equal(rotated.status, 200);
    const { token } = await startTask(a, agent);
    assert.equal(decodeProtectedHeader(token).kid, rotated.body.active);
    assert.equal((await whoami(b, token, agent.key)).status, 200);
  });
});
