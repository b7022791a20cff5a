import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ApprovalService } from '../../src/approvals/approval-service.js';
import { verifyWebhookSignature } from '../../src/approvals/webhook-signature.js';
import { WebhookNotifier } from '../../src/approvals/webhooks.js';
import type { AgentId, TaskId } from '../../src/domain/index.js';
import { API_KEY_TOKEN_TYPE } from '../../src/credentials/subject-token/verify.js';
import { randomIds } from '../../src/util/id-generator.js';
import { BACKENDS, registerAgent, startTask, startWarden, tokenRequest, whoami, type TestAgent, type TestWarden } from '../support/harness.js';
import { until } from '../support/eventually.js';

const BIN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));
const run = promisify(execFile);
const SECRET_ENV = 'WARDEN_TEST_APPROVAL_HOOK_SECRET';
const SECRET = 'approval-hook-secret-for-tests';
const EXPIRY_SEC = 600;

interface Receiver {
  readonly url: string;
  readonly received: { headers: IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 answering with the statuses of `plan` in turn (the last one repeats). */
async function startReceiver(plan: number[] = [200]): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(plan.length > 1 ? plan.shift()! : plan[0]!).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/warden`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const config = (hookUrl: string, secretEnv = SECRET_ENV): string => `
approvals:
  waitSec: 0
  expirySec: ${EXPIRY_SEC}
  webhooks:
    - url: ${hookUrl}
      secretEnv: ${secretEnv}
      events: [approval.requested]
tools:
  - { name: bank.transfer, risk: critical, inputSchema: { type: object, properties: { to: { type: string }, amount: { type: integer } } } }
  - { name: github.delete_repo, risk: medium, tags: [destructive], inputSchema: { type: object, properties: { repo: { type: string } } } }
`;

/** People with API keys, made through the admin API. */
async function createPeople(tw: TestWarden, roles: Record<string, string[]>): Promise<Record<string, { id: string; key: string }>> {
  const out: Record<string, { id: string; key: string }> = {};
  for (const [name, r] of Object.entries(roles)) {
    const res = await tw.admin('POST', '/v1/persons', { name, email: `${name}@example.com`, roles: r });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    out[name] = { id: res.body.person.id, key: res.body.apiKey };
  }
  return out;
}

for (const backend of BACKENDS) {
  describe(`approvals on ${backend}`, () => {
    let tw: TestWarden;
    let hooks: Receiver;
    let agent: TestAgent;
    let people: Record<string, { id: string; key: string }>;
    const as = (who: string) => (method: string, path: string, body?: unknown) => tw.admin(method, path, body, people[who]!.key);
    const decide = (who: string, id: string, decision: 'approve' | 'deny', comment?: string) =>
      as(who)('POST', `/v1/approvals/${id}/${decision}`, comment ? { comment } : {});
    /** A call through the real pipeline: authenticate, scope, Cedar, approve. */
    const authorize = (token: string, tool: string, args: Record<string, unknown>) =>
      whoami(tw, token, agent.key, { method: 'POST', path: '/agent/v1/authorize', body: { tool, args } });
    const transfer = { to: 'DE89 3704 0044 0532 0130 00', amount: 1200 };
    const pendingId = (res: { status: number; body: any }): string => {
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'APPROVAL_PENDING');
      assert.match(res.body.error.details.approval, /^apr_/);
      return res.body.error.details.approval;
    };

    before(async () => {
      process.env[SECRET_ENV] = SECRET;
      hooks = await startReceiver();
      tw = await startWarden(backend, { config: config(hooks.url) });
      agent = await registerAgent(tw, { capabilities: ['github.*', 'bank.*'] });
      people = await createPeople(tw, {
        alice: ['approver'],
        bob: ['approver'],
        carol: ['approver', 'auditor'],
        dave: ['approver'],
        erin: ['approver'],
        vic: ['viewer'],
        adam: ['admin'],
      });
    });
    after(async () => {
      await tw?.close();
      await hooks?.close();
    });

    it('holds a critical call until two approvers accept, then lets it through once', async () => {
      const { token, task } = await startTask(tw, agent, { scope: 'bank.transfer' });
      const id = pendingId(await authorize(token, 'bank.transfer', transfer));

      const shown = await as('vic')('GET', `/v1/approvals/${id}`);
      assert.equal(shown.status, 200);
      assert.equal(shown.body.approval.action, 'bank.transfer');
      assert.deepEqual(shown.body.approval.args, transfer);
      assert.equal(shown.body.approval.taskId, task);
      assert.equal(shown.body.approval.agentId, agent.id);
      assert.equal(shown.body.approval.required, 2);
      assert.deepEqual(shown.body.approval.policies, ['critical-two-approvers']);

      assert.equal(pendingId(await authorize(token, 'bank.transfer', transfer)), id, 'a retry before approval waits on the same approval');
      assert.equal((await decide('alice', id, 'approve', 'payee checked')).body.approval.status, 'pending');
      assert.equal((await decide('bob', id, 'approve')).body.approval.status, 'approved');

      const passed = await authorize(token, 'bank.transfer', transfer);
      assert.equal(passed.status, 200, JSON.stringify(passed.body));
      assert.equal((await as('vic')('GET', `/v1/approvals/${id}`)).body.approval.status, 'consumed');
      const again = pendingId(await authorize(token, 'bank.transfer', transfer));
      assert.notEqual(again, id, 'an approval lets one call through');
    });

    it('binds the approval to the arguments: a swapped argument after approval is a new approval, not approved', async () => {
      const { token } = await startTask(tw, agent, { scope: 'bank.transfer' });
      const id = pendingId(await authorize(token, 'bank.transfer', transfer));
      await decide('alice', id, 'approve');
      await decide('bob', id, 'approve');

      const swapped = pendingId(await authorize(token, 'bank.transfer', { ...transfer, to: 'GB33 BUKB 2020 1555 5555 55' }));
      assert.notEqual(swapped, id);
      assert.equal((await as('vic')('GET', `/v1/approvals/${swapped}`)).body.approval.status, 'pending');
      assert.equal((await as('vic')('GET', `/v1/approvals/${id}`)).body.approval.status, 'approved', 'the approval waits for its own call');
      assert.equal((await authorize(token, 'bank.transfer', { amount: 1200, to: transfer.to })).status, 200, 'key order is not an argument');
    });

    it("refuses the approval of the person the task acts for; another approver's counts", async () => {
      const res = await tokenRequest(tw, agent, {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: people.alice!.key,
        subject_token_type: API_KEY_TOKEN_TYPE,
        purpose: 'clean up repositories for Alice',
        scope: 'github.delete_repo',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const token = res.body.access_token as string;
      const id = pendingId(await authorize(token, 'github.delete_repo', { repo: 'acme/old' }));
      assert.equal((await as('vic')('GET', `/v1/approvals/${id}`)).body.approval.requester, people.alice!.id);

      const own = await decide('alice', id, 'approve');
      assert.equal(own.status, 403);
      assert.equal(own.body.error.code, 'APPROVAL_NOT_ELIGIBLE');
      assert.equal((await decide('bob', id, 'approve')).body.approval.status, 'approved');
      assert.equal((await authorize(token, 'github.delete_repo', { repo: 'acme/old' })).status, 200);
    });

    it('counts the requester when the policy allows self-approval', async () => {
      const { task } = await startTask(tw, agent, { scope: 'bank.transfer' });
      const approval = await tw.warden.context.approvals.hold({
        agentId: agent.id as AgentId,
        taskId: task as TaskId,
        action: 'bank.transfer',
        args: transfer,
        required: 1,
        requester: people.alice!.id,
        selfApproval: true,
        policies: ['self-service'],
      });
      assert.equal((await decide('alice', approval.id, 'approve')).body.approval.status, 'approved');
    });

    it('lets only approvers decide', async () => {
      const { token } = await startTask(tw, agent, { scope: 'bank.transfer' });
      const id = pendingId(await authorize(token, 'bank.transfer', { ...transfer, amount: 7 }));
      for (const who of ['vic', 'adam']) {
        const res = await decide(who, id, 'approve');
        assert.equal(res.status, 403);
        assert.equal(res.body.error.code, 'AUTH_FORBIDDEN');
      }
      const anonymous = await fetch(`${tw.url}/v1/approvals/${id}/approve`, { method: 'POST' });
      assert.equal(anonymous.status, 401);
      assert.equal((await as('vic')('GET', `/v1/approvals/${id}`)).body.approval.decisions.length, 0);
    });

    it('resolves two of five concurrent approvals exactly once, and passes one of five concurrent retries', async () => {
      const { token } = await startTask(tw, agent, { scope: 'bank.transfer' });
      const args = { ...transfer, amount: 99 };
      const id = pendingId(await authorize(token, 'bank.transfer', args));
      const decisions = await Promise.all(['alice', 'bob', 'carol', 'dave', 'erin'].map((who) => decide(who, id, 'approve')));
      assert.deepEqual(decisions.map((d) => d.status).sort(), [200, 200, 409, 409, 409]);
      for (const d of decisions.filter((x) => x.status === 409)) assert.equal(d.body.error.code, 'APPROVAL_CLOSED');
      const approval = (await as('vic')('GET', `/v1/approvals/${id}`)).body.approval;
      assert.equal(approval.status, 'approved');
      assert.equal(approval.decisions.length, 2);

      const retries = await Promise.all(Array.from({ length: 5 }, () => authorize(token, 'bank.transfer', args)));
      assert.equal(retries.filter((r) => r.status === 200).length, 1);
      const others = retries.filter((r) => r.status !== 200).map(pendingId);
      assert.ok(others.every((o) => o !== id));
      assert.equal(new Set(others).size, 1, 'the losers share one new approval');

      const steps = (await tw.admin('GET', `/v1/events?subject=${id}`)).body.events.map((e: { type: string }) => e.type);
      assert.equal(steps.filter((t: string) => t === 'approval.resolve').length, 1);
      assert.equal(steps.filter((t: string) => t === 'approval.consume').length, 1);
    });

    it('ends the approval at the first denial', async () => {
      const { token } = await startTask(tw, agent, { scope: 'bank.transfer' });
      const args = { ...transfer, amount: 5000 };
      const id = pendingId(await authorize(token, 'bank.transfer', args));
      await decide('alice', id, 'approve');
      assert.equal((await decide('bob', id, 'deny', 'not this month')).body.approval.status, 'denied');
      const closed = await decide('carol', id, 'approve');
      assert.equal(closed.status, 409);
      assert.equal(closed.body.error.code, 'APPROVAL_CLOSED');
      const res = await authorize(token, 'bank.transfer', args);
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'APPROVAL_DENIED');
      assert.equal(res.body.error.details.approval, id);
    });

    it('refuses a second decision by one person, unknown approvals and bad input', async () => {
      const { token } = await startTask(tw, agent, { scope: 'bank.transfer' });
      const id = pendingId(await authorize(token, 'bank.transfer', { ...transfer, amount: 1 }));
      await decide('alice', id, 'approve');
      const twice = await decide('alice', id, 'approve');
      assert.equal(twice.status, 409);
      assert.equal(twice.body.error.code, 'APPROVAL_ALREADY_DECIDED');
      assert.equal((await decide('alice', 'apr_0123456789abcdefghijklmn', 'approve')).body.error.code, 'APPROVAL_NOT_FOUND');
      assert.equal((await as('vic')('GET', '/v1/approvals/nope')).status, 404);
      assert.equal((await as('bob')('POST', `/v1/approvals/${id}/approve`, { comment: 42 })).body.error.code, 'INVALID_INPUT');
      assert.equal((await as('bob')('POST', `/v1/approvals/${id}/approve`, { comment: 'ok', status: 'approved' })).body.error.code, 'INVALID_INPUT');
      assert.equal((await as('vic')('GET', '/v1/approvals?status=maybe')).body.error.code, 'INVALID_INPUT');
      assert.equal((await as('vic')('GET', `/v1/approvals/${id}`)).body.approval.status, 'pending');
    });

    it('lists approvals newest first, by status and by task', async () => {
      const { token, task } = await startTask(tw, agent, { scope: 'bank.transfer' });
      const first = pendingId(await authorize(token, 'bank.transfer', { ...transfer, amount: 11 }));
      const second = pendingId(await authorize(token, 'bank.transfer', { ...transfer, amount: 12 }));
      await decide('alice', first, 'deny');
      const byTask = (await as('vic')('GET', `/v1/approvals?task=${task}`)).body.approvals.map((a: { id: string }) => a.id);
      assert.deepEqual(new Set(byTask), new Set([first, second]));
      const pending = (await as('vic')('GET', `/v1/approvals?task=${task}&status=pending`)).body.approvals;
      assert.deepEqual(pending.map((a: { id: string }) => a.id), [second]);
      assert.equal((await as('vic')('GET', '/v1/approvals?limit=1')).body.approvals.length, 1);
    });

    it('wakes a waiting call as soon as an approver decides through the API', async () => {
      const { task } = await startTask(tw, agent, { scope: 'bank.transfer' });
      const approvals = tw.warden.context.approvals;
      const held = await approvals.hold({
        agentId: agent.id as AgentId,
        taskId: task as TaskId,
        action: 'bank.transfer',
        args: { ...transfer, amount: 31 },
        required: 1,
        requester: null,
        selfApproval: false,
        policies: ['test'],
      });
      const start = performance.now();
      const waiting = approvals.waitForDecision(held.id, 10_000);
      setTimeout(() => void decide('carol', held.id, 'approve'), 100);
      assert.equal((await waiting).status, 'approved');
      assert.ok(performance.now() - start < 3000);
    });

    it('records every step of an approval in the event log', async () => {
      const { token } = await startTask(tw, agent, { scope: 'bank.transfer' });
      const args = { ...transfer, amount: 77 };
      const id = pendingId(await authorize(token, 'bank.transfer', args));
      await decide('vic', id, 'approve');
      await decide('alice', id, 'approve', 'fine');
      await decide('bob', id, 'approve');
      assert.equal((await authorize(token, 'bank.transfer', args)).status, 200);
      const events = (await tw.admin('GET', `/v1/events?subject=${id}`)).body.events as { type: string; outcome: string; actor: { id: string }; data: any }[];
      // vic's attempt is refused by the route (no approver role) before the service sees it.
      assert.deepEqual(
        events.map((e) => [e.type, e.outcome, e.actor.id]),
        [
          ['approval.request', 'success', agent.id],
          ['approval.decide', 'success', people.alice!.id],
          ['approval.decide', 'success', people.bob!.id],
          ['approval.resolve', 'success', people.bob!.id],
          ['approval.consume', 'success', agent.id],
        ],
      );
      assert.deepEqual(events[0]!.data.policies, ['critical-two-approvers']);
      assert.equal(events[1]!.data.comment, 'fine');
      assert.deepEqual(events[3]!.data.approvers, [people.alice!.id, people.bob!.id]);
    });

    it('notifies the configured webhook of each new approval, signed with its secret', async () => {
      const { token } = await startTask(tw, agent, { scope: 'bank.transfer' });
      const id = pendingId(await authorize(token, 'bank.transfer', { ...transfer, amount: 4242 }));
      await until(() => hooks.received.some((r) => JSON.parse(r.body).approval.id === id), 'the webhook delivery', 5000);
      const delivery = hooks.received.find((r) => JSON.parse(r.body).approval.id === id)!;
      assert.equal(delivery.headers['x-warden-event'], 'approval.requested');
      const nowSec = Math.floor(tw.clock.now() / 1000);
      assert.equal(verifyWebhookSignature(SECRET, delivery.headers['x-warden-signature'] as string, delivery.body, { nowSec }), true);
      assert.equal(verifyWebhookSignature('not-the-secret', delivery.headers['x-warden-signature'] as string, delivery.body, { nowSec }), false);
      const payload = JSON.parse(delivery.body);
      assert.equal(payload.type, 'approval.requested');
      assert.deepEqual(payload.approval.args, { ...transfer, amount: 4242 });
      assert.equal(payload.url, `${tw.warden.url}/v1/approvals/${id}`);
      assert.ok(hooks.received.every((r) => r.headers['x-warden-event'] === 'approval.requested'), 'only the subscribed event');
    });

    it('retries a webhook after a 500, and records webhook.fail once retries are exhausted', async () => {
      const flaky = await startReceiver([500, 200]);
      const dead = await startReceiver([500]);
      const ctx = tw.warden.context;
      const notifier = new WebhookNotifier(
        [
          { url: flaky.url, secretEnv: SECRET_ENV, events: ['approval.requested'] },
          { url: `${dead.url}?token=never-logged`, secretEnv: SECRET_ENV, events: ['approval.requested'] },
        ],
        { events: ctx.events, clock: ctx.clock, retryDelaysMs: [10, 20, 40] },
      );
      const service = new ApprovalService(ctx.store, ctx.events, ctx.clock, randomIds, { waitSec: 0, expirySec: EXPIRY_SEC }, notifier);
      try {
        const { task } = await startTask(tw, agent, { scope: 'bank.transfer' });
        const held = await service.hold({
          agentId: agent.id as AgentId,
          taskId: task as TaskId,
          action: 'bank.transfer',
          args: transfer,
          required: 1,
          requester: null,
          selfApproval: false,
          policies: ['test'],
        });
        await notifier.idle();
        assert.equal(flaky.received.length, 2);
        assert.equal(flaky.received[0]!.headers['x-warden-delivery'], flaky.received[1]!.headers['x-warden-delivery']);
        assert.equal(dead.received.length, 4);
        const fails = (await tw.admin('GET', `/v1/events?type=webhook.fail&subject=${held.id}`)).body.events;
        assert.equal(fails.length, 1);
        assert.equal(fails[0].data.url, dead.url);
        assert.equal(fails[0].data.attempts, 4);
        assert.ok(!JSON.stringify(fails).includes(SECRET) && !JSON.stringify(fails).includes('never-logged'));
      } finally {
        await service.close();
        await flaky.close();
        await dead.close();
      }
    });

    it('drives approvals from the CLI: list, show with the exact arguments, approve, deny', async () => {
      const { token } = await startTask(tw, agent, { scope: 'bank.transfer' });
      const one = pendingId(await authorize(token, 'bank.transfer', { to: 'FR76 3000 6000 0112 3456 7890 189', amount: 31337 }));
      const two = pendingId(await authorize(token, 'bank.transfer', { to: 'FR76 3000 6000 0112 3456 7890 189', amount: 1 }));
      const cli = (who: string, args: string[]) =>
        run(process.execPath, [BIN, ...args], { env: { ...process.env, WARDEN_URL: tw.url, WARDEN_ADMIN_KEY: people[who]!.key } });

      const listed = JSON.parse((await cli('vic', ['--json', 'approvals', 'list', '--status', 'pending'])).stdout) as { id: string }[];
      assert.ok(listed.some((a) => a.id === one) && listed.some((a) => a.id === two));
      assert.match((await cli('vic', ['approvals', 'list'])).stdout, new RegExp(`${one}\\s+pending\\s+bank\\.transfer\\s+0/2`));
      const shown = (await cli('vic', ['approvals', 'show', one])).stdout;
      assert.match(shown, /bank\.transfer/);
      assert.match(shown, /"amount": 31337/);
      assert.match(shown, /"to": "FR76 3000 6000 0112 3456 7890 189"/);
      assert.match((await cli('alice', ['approvals', 'approve', one, '--comment', 'looks right'])).stdout, /is pending \(1\/2 approvals\)/);
      assert.match((await cli('bob', ['approvals', 'approve', one])).stdout, /is approved \(2\/2 approvals\)/);
      assert.equal(JSON.parse((await cli('alice', ['--json', 'approvals', 'deny', two])).stdout).status, 'denied');
      await assert.rejects(cli('alice', ['approvals', 'approve', one]), (err: { stderr: string }) => /APPROVAL_CLOSED \(HTTP 409\)/.test(err.stderr));
      assert.equal((await authorize(token, 'bank.transfer', { to: 'FR76 3000 6000 0112 3456 7890 189', amount: 31337 })).status, 200);
    });

    // Last: it moves this Warden's clock past every approval's expiry.
    it('expires an approval nobody decided: it reads expired, cannot be approved, and a retry asks anew', async () => {
      const { token } = await startTask(tw, agent, { scope: 'bank.transfer' });
      const args = { ...transfer, amount: 600 };
      const id = pendingId(await authorize(token, 'bank.transfer', args));
      await decide('alice', id, 'approve');
      tw.clock.advance(EXPIRY_SEC * 1000);
      const shown = (await as('vic')('GET', `/v1/approvals/${id}`)).body.approval;
      assert.equal(shown.status, 'expired');
      const late = await decide('bob', id, 'approve');
      assert.equal(late.status, 409);
      assert.equal(late.body.error.code, 'APPROVAL_CLOSED');
      assert.equal(late.body.error.details.status, 'expired');
      const retry = pendingId(await authorize(token, 'bank.transfer', args));
      assert.notEqual(retry, id);
      const resolved = (await tw.admin('GET', `/v1/events?type=approval.resolve&subject=${id}`)).body.events;
      assert.deepEqual(resolved.map((e: { data: { status: string } }) => e.data.status), ['expired']);
    });
  });
}

describe('approval webhooks at startup', () => {
  it('refuses to start when a webhook secret is not in the environment, naming the variable', async () => {
    delete process.env.WARDEN_TEST_UNSET_HOOK_SECRET;
    await assert.rejects(startWarden('sqlite', { config: config('https://hooks.example.com/warden', 'WARDEN_TEST_UNSET_HOOK_SECRET') }), (err: Error) =>
      err.message.includes('WARDEN_TEST_UNSET_HOOK_SECRET'),
    );
  });
});

describe('approvals across two replicas sharing one PostgreSQL', { skip: !BACKENDS.includes('postgres') }, () => {
  let a: TestWarden & { databaseUrl: string | undefined };
  let b: TestWarden;
  let hooks: Receiver;
  let agent: TestAgent;
  let people: Record<string, { id: string; key: string }>;
  const publicUrl = 'http://warden.test';
  before(async () => {
    process.env[SECRET_ENV] = SECRET;
    hooks = await startReceiver();
    a = await startWarden('postgres', { config: config(hooks.url), publicUrl });
    b = await startWarden('postgres', { config: config(hooks.url), publicUrl, databaseUrl: a.databaseUrl! });
    agent = await registerAgent(a, { capabilities: ['bank.*'] });
    people = await createPeople(a, { alice: ['approver'], bob: ['approver'] });
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await hooks?.close();
  });

  const holdOn = async (tw: TestWarden, amount: number, required = 1) => {
    const { task } = await startTask(a, agent, { scope: 'bank.transfer' });
    return tw.warden.context.approvals.hold({
      agentId: agent.id as AgentId,
      taskId: task as TaskId,
      action: 'bank.transfer',
      args: { to: 'DE89', amount },
      required,
      requester: null,
      selfApproval: false,
      policies: ['test'],
    });
  };

  it('wakes a call waiting on one replica when an approver decides on the other', async () => {
    const held = await holdOn(a, 1);
    const start = performance.now();
    const waiting = a.warden.context.approvals.waitForDecision(held.id, 10_000);
    setTimeout(() => void b.admin('POST', `/v1/approvals/${held.id}/approve`, {}, people.alice!.key), 100);
    assert.equal((await waiting).status, 'approved');
    assert.ok(performance.now() - start < 3000, 'within a few poll intervals');
  });

  it('resolves once when two approvers decide on different replicas at once', async () => {
    const held = await holdOn(a, 2, 2);
    const [x, y] = await Promise.all([
      a.admin('POST', `/v1/approvals/${held.id}/approve`, {}, people.alice!.key),
      b.admin('POST', `/v1/approvals/${held.id}/approve`, {}, people.bob!.key),
    ]);
    assert.deepEqual([x.status, y.status], [200, 200]);
    assert.deepEqual([x.body.approval.status, y.body.approval.status].sort(), ['approved', 'pending']);
    const resolved = (await a.admin('GET', `/v1/events?type=approval.resolve&subject=${held.id}`)).body.events;
    assert.equal(resolved.length, 1);
  });

  it('gives identical calls held on both replicas at once one approval, consumed by exactly one of them', async () => {
    const { task } = await startTask(a, agent, { scope: 'bank.transfer' });
    const req = {
      agentId: agent.id as AgentId,
      taskId: task as TaskId,
      action: 'bank.transfer',
      args: { to: 'DE89', amount: 3 },
      required: 1,
      requester: null,
      selfApproval: false,
      policies: ['test'],
    };
    const held = await Promise.all([a, b, a, b].map((tw) => tw.warden.context.approvals.hold(req)));
    assert.equal(new Set(held.map((h) => h.id)).size, 1);
    await a.admin('POST', `/v1/approvals/${held[0]!.id}/approve`, {}, people.alice!.key);
    const consumed = await Promise.all([a, b, a, b].map((tw) => tw.warden.context.approvals.consume(held[0]!.id)));
    assert.equal(consumed.filter((c) => c !== null).length, 1);
  });
});
