import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { API_KEY_TOKEN_TYPE } from '../../src/credentials/subject-token/verify.js';
import { WardenAgent } from '../../src/sdk/index.js';
import { BACKENDS, registerAgent, startWarden, tokenRequest, whoami, type TestAgent, type TestWarden } from '../support/harness.js';

const config = `
approvals:
  waitSec: 0
  expirySec: 600
tools:
  - { name: bank.transfer, risk: low, inputSchema: { type: object, properties: { amount: { type: integer } } } }
  - { name: github.list_issues, risk: low }
`;

/**
 * Held task grants: a task that may move money needs one approver before it exists, and a
 * task acting for a person who is only a viewer may not touch the bank at all — a rule that
 * reads the Person entity's roles.
 */
const POLICIES = `
@id("bank-tasks-need-a-person")
@approval("1")
permit(principal is Warden::Agent, action == Warden::Action::"start_task", resource)
when { context.scope.contains("bank.transfer") };

@id("viewers-do-not-move-money")
forbid(principal is Warden::Agent, action == Warden::Action::"bank.transfer", resource)
when { context has person && context.person.roles.contains("viewer") && !context.person.roles.contains("approver") };

@id("viewer-tasks-named-in-grant")
forbid(principal is Warden::Agent, action == Warden::Action::"start_task", resource)
when { resource has person && resource.person.roles.contains("viewer") && context.scope.contains("github.delete_repo") };
`;

for (const backend of BACKENDS) {
  describe(`held task grants and person roles on ${backend}`, () => {
    let tw: TestWarden;
    let agent: TestAgent;
    const people: Record<string, { id: string; key: string }> = {};
    const bankTask = { purpose: 'pay invoice 77', scope: 'bank.transfer' };
    const pending = (res: { status: number; body: any }): string => {
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body.error, 'access_denied');
      assert.equal(res.body.warden_code, 'APPROVAL_PENDING');
      assert.match(res.body.details.approval, /^apr_/);
      return res.body.details.approval;
    };
    const approve = (who: string, id: string) => tw.admin('POST', `/v1/approvals/${id}/approve`, {}, people[who]!.key);

    before(async () => {
      tw = await startWarden(backend, { config });
      await writeFile(join(tw.dataDir, 'policies', 'tasks.cedar'), POLICIES);
      const reload = await tw.admin('POST', '/v1/policy/reload', {});
      assert.equal(reload.status, 200, JSON.stringify(reload.body));
      agent = await registerAgent(tw, { capabilities: ['bank.*', 'github.*'] });
      for (const [name, roles] of Object.entries({ alice: ['approver'], bob: ['approver'], vic: ['viewer'] })) {
        const res = await tw.admin('POST', '/v1/persons', { name, email: `${name}@example.com`, roles });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        people[name] = { id: res.body.person.id, key: res.body.apiKey };
      }
    });
    after(() => tw?.close());

    it('holds a task grant for people, names the task to be, and grants that task to the retry once approved', async () => {
      const id = pending(await tokenRequest(tw, agent, bankTask));
      const shown = await tw.admin('GET', `/v1/approvals/${id}`);
      assert.equal(shown.body.approval.action, 'start_task');
      assert.deepEqual(shown.body.approval.args.scope, ['bank.transfer']);
      assert.equal(shown.body.approval.args.purpose, 'pay invoice 77');
      const taskToBe = shown.body.approval.taskId;
      assert.match(taskToBe, /^tsk_/);
      // Asking again before anyone decided finds the same approval, not a new one.
      assert.equal(pending(await tokenRequest(tw, agent, bankTask)), id);
      assert.equal((await tw.admin('GET', `/v1/tasks/${taskToBe}`)).status, 404);

      assert.equal((await approve('alice', id)).status, 200);
      const granted = await tokenRequest(tw, agent, bankTask);
      assert.equal(granted.status, 200, JSON.stringify(granted.body));
      assert.equal(granted.body.task, taskToBe);
      const grants = (await tw.admin('GET', '/v1/events?type=task.grant')).body.events.filter((e: any) => e.subject === taskToBe);
      assert.equal(grants.length, 1);
      assert.equal(grants[0].data.approval, id);

      // The approval was used by that grant: the same request again is a new approval.
      const next = pending(await tokenRequest(tw, agent, bankTask));
      assert.notEqual(next, id);
    });

    it('treats a request for anything more as a new approval', async () => {
      const first = pending(await tokenRequest(tw, agent, { purpose: 'pay invoice 78', scope: 'bank.transfer' }));
      assert.equal((await approve('alice', first)).status, 200);
      // One more capability, or a longer life, is not what alice approved.
      const wider = pending(await tokenRequest(tw, agent, { purpose: 'pay invoice 78', scope: 'bank.transfer github.list_issues' }));
      assert.notEqual(wider, first);
      const longer = pending(await tokenRequest(tw, agent, { purpose: 'pay invoice 78', scope: 'bank.transfer', task_lifetime: '1800' }));
      assert.notEqual(longer, first);
      assert.notEqual(longer, wider);
      // The approved request itself still passes.
      assert.equal((await tokenRequest(tw, agent, { purpose: 'pay invoice 78', scope: 'bank.transfer' })).status, 200);
    });

    it('refuses the grant for good once an approver denies it', async () => {
      const id = pending(await tokenRequest(tw, agent, { purpose: 'pay invoice 79', scope: 'bank.transfer' }));
      assert.equal((await tw.admin('POST', `/v1/approvals/${id}/deny`, { comment: 'not this one' }, people.bob!.key)).status, 200);
      const res = await tokenRequest(tw, agent, { purpose: 'pay invoice 79', scope: 'bank.transfer' });
      assert.equal(res.status, 403);
      assert.equal(res.body.warden_code, 'APPROVAL_DENIED');
    });

    it('does not let the person the task is for approve its grant', async () => {
      const onBehalf = { subject_token: people.alice!.key, subject_token_type: API_KEY_TOKEN_TYPE, grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange' };
      const id = pending(await tokenRequest(tw, agent, { ...bankTask, purpose: 'pay invoice 80', ...onBehalf }));
      const self = await approve('alice', id);
      assert.equal(self.status, 403);
      assert.equal(self.body.error.code, 'APPROVAL_NOT_ELIGIBLE');
      assert.equal((await approve('bob', id)).status, 200);
      assert.equal((await tokenRequest(tw, agent, { ...bankTask, purpose: 'pay invoice 80', ...onBehalf })).status, 200);
    });

    it('lets policies read the roles of the person a task acts for, at the grant and at each call', async () => {
      const forVic = { subject_token: people.vic!.key, subject_token_type: API_KEY_TOKEN_TYPE, grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange' };
      const refused = await tokenRequest(tw, agent, { purpose: 'clean up', scope: 'github.delete_repo', ...forVic });
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.equal(refused.body.warden_code, 'POLICY_DENIED');
      assert.deepEqual(refused.body.details.policies, ['viewer-tasks-named-in-grant']);

      const id = pending(await tokenRequest(tw, agent, { purpose: 'pay for vic', scope: 'bank.transfer', ...forVic }));
      assert.equal((await approve('bob', id)).status, 200);
      const granted = await tokenRequest(tw, agent, { purpose: 'pay for vic', scope: 'bank.transfer', ...forVic });
      assert.equal(granted.status, 200, JSON.stringify(granted.body));
      const call = await whoami(tw, granted.body.access_token, agent.key, { method: 'POST', path: '/agent/v1/authorize', body: { tool: 'bank.transfer', args: { amount: 5 } } });
      assert.equal(call.status, 403, JSON.stringify(call.body));
      assert.equal(call.body.error.code, 'POLICY_DENIED');
      assert.deepEqual(call.body.error.details.policies, ['viewers-do-not-move-money']);
    });

    it('lets the SDK wait for a held grant and report the approval to approve', async () => {
      const sdk = new WardenAgent({ wardenUrl: tw.warden.context.urls.base, agentId: agent.id, key: agent.key });
      const seen: string[] = [];
      const session = sdk.startTask({
        purpose: 'pay invoice 81',
        scope: ['bank.transfer'],
        approval: {
          waitMs: 20_000,
          onPending: (id) => {
            seen.push(id);
            void approve('alice', id);
          },
        },
      });
      const task = await session;
      assert.equal(seen.length, 1);
      assert.equal((await tw.admin('GET', `/v1/approvals/${seen[0]}`)).body.approval.taskId, task.taskId);
    });
  });
}
