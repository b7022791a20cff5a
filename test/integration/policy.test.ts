import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BACKENDS, registerAgent, startTask, startWarden, tokenRequest, whoami, type TestAgent, type TestWarden } from '../support/harness.js';

const CONFIG = `
policy:
  watch: true
approvals:
  waitSec: 0
tools:
  - { name: github.list_issues, risk: low, inputSchema: { type: object, properties: { repo: { type: string } } } }
  - { name: github.create_issue, risk: medium, inputSchema: { type: object, properties: { repo: { type: string }, title: { type: string } } } }
  - { name: github.delete_repo, risk: medium, tags: [destructive], inputSchema: { type: object, properties: { repo: { type: string } } } }
  - { name: jira.read_issue, risk: low, inputSchema: { type: object, properties: { key: { type: string }, count: { type: integer } } } }
`;

const EXTRA = `@id("no-prod-issues")
forbid(principal, action == Warden::Action::"github.create_issue", resource)
when { context.args has repo && context.args.repo like "acme/prod*" };

@id("overflow")
forbid(principal, action == Warden::Action::"jira.read_issue", resource)
when { context.args has count && context.args.count * 9223372036854775807 > 0 };
`;

for (const backend of BACKENDS) {
  describe(`policy decisions on ${backend}`, () => {
    let tw: TestWarden;
    let agent: TestAgent;
    let token: string;
    before(async () => {
      tw = await startWarden(backend, { config: CONFIG });
      await writeFile(join(tw.dataDir, 'policies', 'extra.cedar'), EXTRA);
      assert.equal((await tw.admin('POST', '/v1/policy/reload', {})).status, 200);
      agent = await registerAgent(tw);
      token = (await startTask(tw, agent, { scope: 'github.list_issues github.create_issue github.delete_repo jira.read_issue' })).token;
    });
    after(async () => {
      await tw?.close();
    });

    const call = (tool: string, args: Record<string, unknown> = {}) =>
      whoami(tw, token, agent.key, { method: 'POST', path: '/agent/v1/authorize', body: { tool, args } });

    it('allows a low-risk read and names the deciding policy', async () => {
      const res = await call('github.list_issues', { repo: 'acme/web' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.policies, ['low-risk-runs']);
    });

    it('denies by a forbid policy with POLICY_DENIED naming it', async () => {
      const res = await call('github.create_issue', { repo: 'acme/prod-api', title: 'x' });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'POLICY_DENIED');
      assert.deepEqual(res.body.error.details.policies, ['no-prod-issues']);
      assert.equal((await call('github.create_issue', { repo: 'acme/web', title: 'x' })).status, 200);
    });

    it('refuses a call outside the task scope before any policy', async () => {
      const narrow = (await startTask(tw, agent, { scope: 'github.list_issues' })).token;
      const res = await whoami(tw, narrow, agent.key, { method: 'POST', path: '/agent/v1/authorize', body: { tool: 'github.create_issue', args: {} } });
      assert.equal(res.body.error.code, 'SCOPE_DENIED');
    });

    it('holds a destructive call for approval', async () => {
      const res = await call('github.delete_repo', { repo: 'acme/web' });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'APPROVAL_PENDING');
    });

    it('lets a held call through once after an approver accepts that exact call', async () => {
      const approver = await tw.admin('POST', '/v1/persons', { name: 'Ann', roles: ['approver'] });
      const held = await call('github.delete_repo', { repo: 'acme/old' });
      assert.equal(held.body.error.code, 'APPROVAL_PENDING');
      const id = held.body.error.details.approval as string;
      // Other arguments are another call: not covered by this approval.
      const other = await call('github.delete_repo', { repo: 'acme/web-other' });
      assert.notEqual(other.body.error.details.approval, id);
      const ok = await tw.admin('POST', `/v1/approvals/${id}/approve`, { comment: 'old repo, fine' }, approver.body.apiKey);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const passed = await call('github.delete_repo', { repo: 'acme/old' });
      assert.equal(passed.status, 200, JSON.stringify(passed.body));
      assert.deepEqual(passed.body.policies, ['destructive-money-auth-need-approval']);
      const again = await call('github.delete_repo', { repo: 'acme/old' });
      assert.equal(again.body.error.code, 'APPROVAL_PENDING');
      assert.notEqual(again.body.error.details.approval, id, 'an approval lets one call through');
    });

    it('denies and records a call whose policy could not be evaluated', async () => {
      const res = await call('jira.read_issue', { key: 'X-1', count: 3 });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'POLICY_EVALUATION_FAILED');
      assert.deepEqual(res.body.error.details.policies, ['overflow']);
      const events = (await tw.admin('GET', '/v1/events?type=policy.decide&limit=10000')).body.events as { outcome: string; data: any }[];
      const failed = events.find((e) => e.data.tool === 'jira.read_issue' && e.data.decision === 'failed');
      assert.ok(failed, 'the failure is recorded');
      assert.equal(failed.outcome, 'failure');
      assert.match(failed.data.errors[0].message, /overflow/);
    });

    it('keeps the old set deciding when a reload brings a broken file, and reports where', async () => {
      const before = (await tw.admin('GET', '/v1/policy')).body.revision;
      await writeFile(join(tw.dataDir, 'policies', 'broken.cedar'), 'permit(principal, action, resource)\n  when { context.args.repo == };\n');
      const res = await tw.admin('POST', '/v1/policy/reload', {});
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'POLICY_INVALID');
      assert.equal(res.body.error.details.problems[0].file, 'broken.cedar');
      assert.equal(res.body.error.details.problems[0].line, 2);
      assert.equal(res.body.error.details.running, before);
      assert.equal((await tw.admin('GET', '/v1/policy')).body.revision, before);
      assert.equal((await call('github.create_issue', { repo: 'acme/prod-x', title: 'x' })).body.error.code, 'POLICY_DENIED');
      const fails = (await tw.admin('GET', '/v1/events?type=policy.reload_fail')).body.events;
      assert.ok(fails.length >= 1);
      // Fixing the file is picked up by the watcher, without a reload call.
      await writeFile(join(tw.dataDir, 'policies', 'broken.cedar'), '@id("fixed") forbid(principal, action == Warden::Action::"github.list_issues", resource);\n');
      const deadline = Date.now() + 5000;
      while ((await tw.admin('GET', '/v1/policy')).body.revision === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.notEqual((await tw.admin('GET', '/v1/policy')).body.revision, before);
      const now = await call('github.list_issues', { repo: 'acme/web' });
      assert.deepEqual(now.body.error.details.policies, ['fixed']);
    });

    it('decides start_task by policy: a high-risk agent needs a person', async () => {
      const risky = await registerAgent(tw, { riskCategory: 'high' });
      const res = await tokenRequest(tw, risky, { purpose: 'x', scope: 'github.list_issues' });
      assert.equal(res.status, 403);
      assert.equal(res.body.warden_code, 'POLICY_DENIED');
      assert.deepEqual(res.body.details.policies, ['high-risk-agents-act-for-a-person']);
    });

    it('answers AuthZEN evaluations and rejects malformed ones', async () => {
      const ok = await tw.admin('POST', '/access/v1/evaluation', {
        subject: { type: 'agent', id: agent.id },
        action: { name: 'github.create_issue' },
        resource: { type: 'tool', id: 'github.create_issue' },
        context: { args: { repo: 'acme/prod-db', title: 't' } },
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.decision, false);
      assert.deepEqual(ok.body.context.warden.policies, ['no-prod-issues']);
      for (const bad of [{}, { subject: { type: 'agent', id: 'nope' }, action: { name: 'x' }, resource: { type: 't', id: 'x' } }, { subject: { type: 'user', id: agent.id }, action: { name: 'x' }, resource: { type: 't', id: 'x' }, extra: 1 }]) {
        const res = await tw.admin('POST', '/access/v1/evaluation', bad);
        assert.equal(res.status, 400);
        assert.equal(res.body.error.code, 'INVALID_INPUT');
      }
      const unknown = await tw.admin('POST', '/access/v1/evaluation', { subject: { type: 'agent', id: 'agt_000000000000000000000000' }, action: { name: 'x.y' }, resource: { type: 'tool', id: 'x.y' } });
      assert.equal(unknown.body.error.code, 'AGENT_NOT_FOUND');
    });
  });
}
