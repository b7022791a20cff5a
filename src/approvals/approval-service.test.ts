import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Agent, AgentId, Approval, Person, PersonId, TaskId } from '../domain/index.js';
import { WardenError } from '../errors/warden-error.js';
import { AuditLog } from '../audit/audit-log.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { ManualClock } from '../util/clock.js';
import { randomId, randomIds } from '../util/id-generator.js';
import { ApprovalService, canonicalArgsDigest, requesterOf, type ApprovalSettings, type HoldRequest } from './approval-service.js';
import type { ApprovalNotifier, WebhookEvent } from './webhooks.js';
import { rejectsWith } from '../../test/support/rejects-with.js';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

class RecordingNotifier implements ApprovalNotifier {
  readonly sent: { event: WebhookEvent; approval: Approval }[] = [];
  notify(event: WebhookEvent, approval: Approval): void {
    this.sent.push({ event, approval });
  }
}


const elapsed = async <T>(p: Promise<T>): Promise<{ value: T; ms: number }> => {
  const start = performance.now();
  const value = await p;
  return { value, ms: performance.now() - start };
};

describe('canonicalArgsDigest', () => {
  it('is the base64url SHA-256 of the RFC 8785 text of { action, args }', () => {
    const jcs = '{"action":"bank.transfer","args":{"amount":5,"to":"DE89"}}';
    assert.equal(canonicalArgsDigest('bank.transfer', { to: 'DE89', amount: 5 }), createHash('sha256').update(jcs).digest('base64url'));
  });

  it('ignores key order and number spelling', () => {
    assert.equal(canonicalArgsDigest('a.b', { x: { q: 1.0, p: [1e2] }, y: 'z' }), canonicalArgsDigest('a.b', { y: 'z', x: { p: [100], q: 1 } }));
  });

  it('changes with any argument, and with the action', () => {
    const base = canonicalArgsDigest('bank.transfer', { to: 'DE89', amount: 5 });
    assert.notEqual(canonicalArgsDigest('bank.transfer', { to: 'DE90', amount: 5 }), base);
    assert.notEqual(canonicalArgsDigest('bank.transfer', { to: 'DE89', amount: 5, memo: '' }), base);
    assert.notEqual(canonicalArgsDigest('bank.refund', { to: 'DE89', amount: 5 }), base);
  });
});

describe('requesterOf', () => {
  it('names a Warden person by id, and an OIDC person by email when known', () => {
    assert.equal(requesterOf({ sub: 'prs_0123456789abcdefghijklmn', iss: 'warden' }), 'prs_0123456789abcdefghijklmn');
    assert.equal(requesterOf({ sub: '1234', iss: 'https://idp.example.com', email: 'ada@example.com' }), 'ada@example.com');
    assert.equal(requesterOf({ sub: '1234', iss: 'https://idp.example.com' }), '1234');
    assert.equal(requesterOf(null), null);
  });
});

describe('ApprovalService', () => {
  let dir: string;
  let store: SqliteStore;
  let clock: ManualClock;
  let events: AuditLog;
  let notifier: RecordingNotifier;
  let agent: Agent;
  let alice: Person;
  let bob: Person;
  let carol: Person;
  let viewer: Person;
  const services: ApprovalService[] = [];

  const service = (settings: Partial<ApprovalSettings> = {}): ApprovalService => {
    const s = new ApprovalService(store, events, clock, randomIds, { waitSec: 0, expirySec: 3600, pollIntervalMs: 20, ...settings }, notifier);
    services.push(s);
    return s;
  };
  const person = async (name: string, roles: Person['roles'], email: string | null = null): Promise<Person> => {
    const p: Person = { id: randomId('prs') as PersonId, name, email, roles, status: 'active', createdAt: T0 };
    await store.insertPerson(p);
    return p;
  };
  const call = (over: Partial<HoldRequest> = {}): HoldRequest => ({
    agentId: agent.id,
    taskId: 'tsk_0123456789abcdefghijklmn' as TaskId,
    action: 'bank.transfer',
    args: { to: 'DE89 3704 0044 0532 0130 00', amount: 1200 },
    required: 1,
    requester: null,
    selfApproval: false,
    policies: ['payments'],
    ...over,
  });
  const eventsOf = async (type: string) => store.listEvents({ type });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-approvals-'));
    store = new SqliteStore(join(dir, 'warden.db'));
    await store.migrate();
    clock = new ManualClock(T0);
    events = new AuditLog(store, clock);
    notifier = new RecordingNotifier();
    agent = {
      id: randomId('agt') as AgentId,
      name: `agent-${randomId('x').slice(2, 10)}`,
      owner: 'ada@example.com',
      purpose: 'payments',
      riskCategory: 'limited',
      status: 'active',
      capabilities: ['bank.*'],
      maxTaskLifetimeSec: 3600,
      createdAt: T0,
      updatedAt: T0,
    };
    await store.insertAgent(agent, []);
    alice = await person('Alice', ['approver']);
    bob = await person('Bob', ['approver', 'admin']);
    carol = await person('Carol', ['approver'], 'carol@example.com');
    viewer = await person('Vic', ['viewer', 'auditor', 'admin']);
  });
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('hold', () => {
    it('gives identical calls one approval, recorded and announced once', async () => {
      const s = service();
      const [a, b] = await Promise.all([s.hold(call()), s.hold(call({ args: { amount: 1200, to: 'DE89 3704 0044 0532 0130 00' } }))]);
      assert.equal(a.id, b.id);
      assert.equal(a.status, 'pending');
      assert.equal(a.expiresAt, T0 + HOUR);
      assert.equal((await eventsOf('approval.request')).length, 1);
      assert.deepEqual(
        notifier.sent.map((n) => [n.event, n.approval.id]),
        [['approval.requested', a.id]],
      );
    });

    it('binds the approval to the arguments: another amount is another approval', async () => {
      const s = service();
      const a = await s.hold(call());
      const b = await s.hold(call({ args: { to: 'DE89 3704 0044 0532 0130 00', amount: 12000 } }));
      assert.notEqual(a.id, b.id);
      assert.notEqual(a.argsDigest, b.argsDigest);
    });

    it('shows approvers the redacted arguments but binds the approval to the exact ones', async () => {
      const s = service();
      const a = await s.hold(call({ args: { to: 'x', token: 's3cret' }, shownArgs: { to: 'x', token: '[redacted]' } }));
      assert.deepEqual(a.args, { to: 'x', token: '[redacted]' });
      assert.equal(a.argsDigest, canonicalArgsDigest('bank.transfer', { to: 'x', token: 's3cret' }));
      const other = await s.hold(call({ args: { to: 'x', token: 'other' }, shownArgs: { to: 'x', token: '[redacted]' } }));
      assert.notEqual(other.id, a.id);
    });
  });

  describe('decide', () => {
    it('approves once enough approvers accept, recording each decision and the resolution', async () => {
      const s = service();
      const a = await s.hold(call({ required: 2, policies: ['payments', 'large-amounts'] }));
      const first = await s.decide(a.id, alice, 'approve', 'IBAN checked');
      assert.equal(first.status, 'pending');
      clock.advance(1000);
      const second = await s.decide(a.id, bob, 'approve');
      assert.equal(second.status, 'approved');
      assert.equal(second.resolvedAt, T0 + 1000);
      assert.deepEqual(
        second.decisions.map((d) => [d.personId, d.decision, d.comment]),
        [
          [alice.id, 'approve', 'IBAN checked'],
          [bob.id, 'approve', null],
        ],
      );
      const decides = await eventsOf('approval.decide');
      assert.deepEqual(
        decides.map((e) => [e.actor.id, e.outcome, e.data.decision, e.data.status]),
        [
          [alice.id, 'success', 'approve', 'pending'],
          [bob.id, 'success', 'approve', 'approved'],
        ],
      );
      const [resolve] = await eventsOf('approval.resolve');
      assert.equal(resolve?.subject, a.id);
      assert.deepEqual(resolve?.data.approvers, [alice.id, bob.id]);
      assert.deepEqual(resolve?.data.policies, ['payments', 'large-amounts']);
      assert.deepEqual(
        notifier.sent.map((n) => [n.event, n.approval.status]),
        [
          ['approval.requested', 'pending'],
          ['approval.decided', 'pending'],
          ['approval.decided', 'approved'],
        ],
      );
    });

    it('ends the approval at the first denial', async () => {
      const s = service();
      const a = await s.hold(call({ required: 2 }));
      await s.decide(a.id, alice, 'approve');
      const denied = await s.decide(a.id, bob, 'deny', 'wrong account');
      assert.equal(denied.status, 'denied');
      const err = await rejectsWith(s.decide(a.id, carol, 'approve'), 'APPROVAL_CLOSED');
      assert.equal(err.details?.status, 'denied');
      const [resolve] = await eventsOf('approval.resolve');
      assert.equal(resolve?.data.deniedBy, bob.id);
      assert.equal(resolve?.outcome, 'denied');
    });

    it('refuses a person without the approver role, and records the attempt', async () => {
      const s = service();
      const a = await s.hold(call());
      const err = await rejectsWith(s.decide(a.id, viewer, 'approve'), 'APPROVAL_NOT_ELIGIBLE');
      assert.equal(err.details?.reason, 'not an approver');
      await rejectsWith(s.decide(a.id, { ...alice, status: 'disabled' }, 'approve'), 'APPROVAL_NOT_ELIGIBLE');
      const refused = await eventsOf('approval.decide');
      assert.deepEqual(
        refused.map((e) => [e.actor.id, e.outcome, e.data.code]),
        [
          [viewer.id, 'denied', 'APPROVAL_NOT_ELIGIBLE'],
          [alice.id, 'denied', 'APPROVAL_NOT_ELIGIBLE'],
        ],
      );
      assert.equal((await s.get(a.id)).decisions.length, 0);
    });

    it('refuses the approval of the person the task acts for, by id or by email, but lets them deny', async () => {
      const s = service();
      const byId = await s.hold(call({ requester: alice.id }));
      const err = await rejectsWith(s.decide(byId.id, alice, 'approve'), 'APPROVAL_NOT_ELIGIBLE');
      assert.equal(err.details?.reason, 'requester');
      const byEmail = await s.hold(call({ requester: 'Carol@Example.com', args: { other: true } }));
      await rejectsWith(s.decide(byEmail.id, carol, 'approve'), 'APPROVAL_NOT_ELIGIBLE');
      assert.equal((await s.decide(byId.id, bob, 'approve')).status, 'approved');
      assert.equal((await s.decide(byEmail.id, carol, 'deny', 'I did not ask for this')).status, 'denied');
    });

    it('counts the requester when the policy allows self-approval', async () => {
      const s = service();
      const a = await s.hold(call({ requester: alice.id, selfApproval: true }));
      assert.equal((await s.decide(a.id, alice, 'approve')).status, 'approved');
    });

    it('refuses a second decision by the same person', async () => {
      const s = service();
      const a = await s.hold(call({ required: 2 }));
      await s.decide(a.id, alice, 'approve');
      await rejectsWith(s.decide(a.id, alice, 'approve'), 'APPROVAL_ALREADY_DECIDED');
      await rejectsWith(s.decide(a.id, alice, 'deny'), 'APPROVAL_ALREADY_DECIDED');
      assert.equal((await s.get(a.id)).status, 'pending');
    });

    it('answers APPROVAL_NOT_FOUND for an unknown or malformed id', async () => {
      const s = service();
      await rejectsWith(s.get(randomId('apr')), 'APPROVAL_NOT_FOUND');
      await rejectsWith(s.get('../../etc/passwd'), 'APPROVAL_NOT_FOUND');
      await rejectsWith(s.decide(randomId('apr'), alice, 'approve'), 'APPROVAL_NOT_FOUND');
    });

    it('resolves exactly once when ten approvers decide at once', async () => {
      const s = service();
      const a = await s.hold(call({ required: 3 }));
      const people = await Promise.all(Array.from({ length: 10 }, (_, i) => person(`P${i}`, ['approver'])));
      const results = await Promise.allSettled(people.map((p) => s.decide(a.id, p, 'approve')));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as WardenError).code, 'APPROVAL_CLOSED');
      assert.equal((await eventsOf('approval.resolve')).length, 1);
      assert.equal((await s.get(a.id)).status, 'approved');
    });
  });

  describe('expiry', () => {
    it('reads an approval past its expiry as expired, records it once, and refuses decisions on it', async () => {
      const s = service();
      const a = await s.hold(call());
      clock.advance(HOUR);
      assert.equal((await s.get(a.id)).status, 'expired');
      assert.equal((await s.get(a.id)).resolvedAt, T0 + HOUR);
      const err = await rejectsWith(s.decide(a.id, alice, 'approve'), 'APPROVAL_CLOSED');
      assert.equal(err.details?.status, 'expired');
      assert.deepEqual(
        (await eventsOf('approval.resolve')).map((e) => [e.subject, e.data.status, e.actor.kind]),
        [[a.id, 'expired', 'system']],
      );
      assert.deepEqual((await s.list({ status: 'expired' })).map((x) => x.id), [a.id]);
    });

    it('asks anew for a call whose approval expired', async () => {
      const s = service();
      const a = await s.hold(call());
      clock.advance(HOUR);
      const b = await s.hold(call());
      assert.notEqual(b.id, a.id);
      assert.equal(b.status, 'pending');
      assert.equal((await eventsOf('approval.resolve')).length, 1, 'the old one is recorded as expired');
    });
  });

  describe('waitForDecision', () => {
    it('wakes at once when the approval is decided in this process', async () => {
      const s = service({ pollIntervalMs: 60_000 });
      const a = await s.hold(call());
      setTimeout(() => void s.decide(a.id, alice, 'approve'), 50);
      const { value, ms } = await elapsed(s.waitForDecision(a.id, 10_000));
      assert.equal(value.status, 'approved');
      assert.ok(ms < 2000, `took ${ms} ms`);
    });

    it('sees a decision made by another replica within its poll interval', async () => {
      const here = service({ pollIntervalMs: 50 });
      const there = service({ pollIntervalMs: 60_000 });
      const a = await here.hold(call());
      const decided = new Promise((resolve) => setTimeout(resolve, 100)).then(() => there.decide(a.id, alice, 'deny'));
      const { value, ms } = await elapsed(here.waitForDecision(a.id, 10_000));
      assert.equal(value.status, 'denied');
      assert.ok(ms < 2000, `took ${ms} ms`);
      await decided;
    });

    it('returns the approval still pending when the time is up', async () => {
      const s = service();
      const a = await s.hold(call());
      const { value, ms } = await elapsed(s.waitForDecision(a.id, 150));
      assert.equal(value.status, 'pending');
      assert.ok(ms >= 140, `returned after ${ms} ms`);
    });

    it('returns when the approval expires', async () => {
      const s = service();
      const a = await s.hold(call());
      setTimeout(() => clock.advance(HOUR), 50);
      assert.equal((await s.waitForDecision(a.id, 10_000)).status, 'expired');
    });

    it('returns when its signal aborts, or the service closes', async () => {
      const s = service({ pollIntervalMs: 60_000 });
      const a = await s.hold(call());
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      assert.equal((await s.waitForDecision(a.id, 10_000, ac.signal)).status, 'pending');
      setTimeout(() => void s.close(), 50);
      const { value, ms } = await elapsed(s.waitForDecision(a.id, 10_000));
      assert.equal(value.status, 'pending');
      assert.ok(ms < 2000);
    });
  });

  describe('requireApproval', () => {
    it('fails with APPROVAL_PENDING carrying the approval id when nobody decides in time', async () => {
      const s = service({ waitSec: 0 });
      const err = await rejectsWith(s.requireApproval(call()), 'APPROVAL_PENDING');
      const approval = await s.get(String(err.details?.approval));
      assert.equal(approval.status, 'pending');
      assert.equal(err.details?.expiresAt, approval.expiresAt);
      const again = await rejectsWith(s.requireApproval(call()), 'APPROVAL_PENDING');
      assert.equal(again.details?.approval, approval.id, 'a retry waits on the same approval');
    });

    it('lets the approved call through once, then asks again for the next identical call', async () => {
      const s = service({ waitSec: 0 });
      const first = await rejectsWith(s.requireApproval(call()), 'APPROVAL_PENDING');
      await s.decide(String(first.details?.approval), alice, 'approve');
      const passed = await s.requireApproval(call());
      assert.equal(passed.id, first.details?.approval);
      assert.equal(passed.status, 'consumed');
      const next = await rejectsWith(s.requireApproval(call()), 'APPROVAL_PENDING');
      assert.notEqual(next.details?.approval, first.details?.approval);
      const [consume] = await eventsOf('approval.consume');
      assert.equal(consume?.subject, passed.id);
      assert.deepEqual(consume?.data.approvers, [alice.id]);
      assert.equal(consume?.actor.id, agent.id);
    });

    it('does not let a call with a swapped argument through on the approval of another', async () => {
      const s = service({ waitSec: 0 });
      const first = await rejectsWith(s.requireApproval(call()), 'APPROVAL_PENDING');
      await s.decide(String(first.details?.approval), alice, 'approve');
      const swapped = await rejectsWith(s.requireApproval(call({ args: { to: 'GB33 BUKB 2020 1555 5555 55', amount: 1200 } })), 'APPROVAL_PENDING');
      assert.notEqual(swapped.details?.approval, first.details?.approval);
      assert.equal((await s.get(String(first.details?.approval))).status, 'approved', 'the approved call is still waiting for its retry');
    });

    it('passes a call approved while it waits', async () => {
      const s = service({ waitSec: 10, pollIntervalMs: 60_000 });
      const waiting = s.requireApproval(call());
      await new Promise((r) => setTimeout(r, 50));
      const [pending] = await s.list({ status: 'pending' });
      await s.decide(pending!.id, alice, 'approve');
      const { value, ms } = await elapsed(waiting);
      assert.equal(value.status, 'consumed');
      assert.ok(ms < 2000);
    });

    it('fails with APPROVAL_DENIED after a denial, without asking again until the denial expires', async () => {
      const s = service({ waitSec: 0 });
      const first = await rejectsWith(s.requireApproval(call()), 'APPROVAL_PENDING');
      await s.decide(String(first.details?.approval), alice, 'deny');
      const denied = await rejectsWith(s.requireApproval(call()), 'APPROVAL_DENIED');
      assert.equal(denied.details?.approval, first.details?.approval);
      await rejectsWith(s.requireApproval(call()), 'APPROVAL_DENIED');
      assert.equal((await eventsOf('approval.request')).length, 1);
      clock.advance(HOUR);
      const fresh = await rejectsWith(s.requireApproval(call()), 'APPROVAL_PENDING');
      assert.notEqual(fresh.details?.approval, first.details?.approval);
    });

    it('fails with APPROVAL_EXPIRED when the approval expires while the call waits', async () => {
      const s = service({ waitSec: 10 });
      const waiting = s.requireApproval(call());
      setTimeout(() => clock.advance(HOUR), 50);
      await rejectsWith(waiting, 'APPROVAL_EXPIRED');
    });

    it('does not pass an approved call once its approval expired unused', async () => {
      const s = service({ waitSec: 0 });
      const first = await rejectsWith(s.requireApproval(call()), 'APPROVAL_PENDING');
      await s.decide(String(first.details?.approval), alice, 'approve');
      clock.advance(HOUR);
      const next = await rejectsWith(s.requireApproval(call()), 'APPROVAL_PENDING');
      assert.notEqual(next.details?.approval, first.details?.approval);
      assert.equal((await s.get(String(first.details?.approval))).status, 'expired');
    });

    it('lets exactly one of two identical calls waiting on one approval through', async () => {
      const s = service({ waitSec: 5, pollIntervalMs: 60_000 });
      const calls = [s.requireApproval(call()), s.requireApproval(call())];
      await new Promise((r) => setTimeout(r, 50));
      const pending = await s.list({ status: 'pending' });
      assert.equal(pending.length, 1, 'both calls wait on one approval');
      await s.decide(pending[0]!.id, alice, 'approve');
      // The loser asks again and waits for that: end its wait.
      setTimeout(() => void s.close(), 200);
      const results = await Promise.allSettled(calls);
      const passed = results.filter((r) => r.status === 'fulfilled');
      assert.equal(passed.length, 1);
      const failed = results.find((r) => r.status === 'rejected');
      assert.equal((failed?.reason as WardenError).code, 'APPROVAL_PENDING');
      assert.notEqual((failed?.reason as WardenError).details?.approval, pending[0]!.id);
      assert.equal((await eventsOf('approval.consume')).length, 1);
    });
  });
});
