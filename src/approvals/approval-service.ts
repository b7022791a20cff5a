import {
  ApprovalIdSchema,
  ApprovalSchema,
  type Actor,
  type AgentId,
  type Approval,
  type Chain,
  type ApprovalId,
  type ApprovalStatus,
  type OnBehalfOf,
  type Person,
  type TaskId,
} from '../domain/index.js';
import type { ErrorCode } from '../errors/registry.js';
import { WardenError } from '../errors/warden-error.js';
import { SYSTEM, type EventLog } from '../events/event-log.js';
import type { ApprovalFilter, Store } from '../store/store.js';
import { canonicalDigest } from '../util/canonical-digest.js';
import type { Clock } from '../util/clock.js';
import type { IdGenerator } from '../util/id-generator.js';
import { NO_NOTIFIER, type ApprovalNotifier } from './webhooks.js';

/**
 * What an approval is bound to besides agent and task: base64url SHA-256 of the RFC 8785
 * (JCS) form of `{ action, args }`. Key order and number spelling do not change it; any other
 * change to the arguments does. The same digest the authorize stage records.
 */
export function canonicalArgsDigest(action: string, args: Record<string, unknown>): string {
  return canonicalDigest({ action, args });
}

/**
 * The `requester` of an approval for a task acting for `onBehalfOf`: a Warden person by id; a
 * person from an OIDC issuer by email when known (so their Warden account, with the same
 * email, is recognised as them), else by subject.
 */
export function requesterOf(onBehalfOf: OnBehalfOf | { sub: string; iss: string; email?: string } | null): string | null {
  if (!onBehalfOf) return null;
  if (onBehalfOf.iss === 'warden') return onBehalfOf.sub;
  return onBehalfOf.email ?? onBehalfOf.sub;
}

/** A call a policy holds for people. */
export interface HoldRequest {
  readonly agentId: AgentId;
  readonly taskId: TaskId;
  /** `server.tool`, or `start_task`. */
  readonly action: string;
  /** The exact arguments: the approval is bound to their canonical digest. */
  readonly args: Record<string, unknown>;
  /** What approvers are shown, when it must differ from `args` (secrets redacted). */
  readonly shownArgs?: Record<string, unknown>;
  /** How many eligible approvers must accept. */
  readonly required: number;
  /** The person the task acts for (see `requesterOf`), or null. */
  readonly requester: string | null;
  /** Whether the requester's own approval counts (the policy says so). */
  readonly selfApproval: boolean;
  /** The policies that asked for the approval. */
  readonly policies: readonly string[];
}

export interface ApprovalSettings {
  /** How long `requireApproval` waits for people before failing with APPROVAL_PENDING. */
  readonly waitSec: number;
  /** How long an approval stays open (and an approval, unused, stays usable). */
  readonly expirySec: number;
  /** How often a waiting call re-reads the store, to see decisions made on another replica. */
  readonly pollIntervalMs?: number;
}

/** Refusals of a decision that are recorded: someone tried, and was not let. */
const REFUSALS: ReadonlySet<ErrorCode> = new Set(['APPROVAL_NOT_ELIGIBLE', 'APPROVAL_CLOSED', 'APPROVAL_ALREADY_DECIDED']);

const isOpen = (a: Approval): boolean => a.status === 'pending' || a.status === 'approved';
const approversOf = (a: Approval): string[] => a.decisions.filter((d) => d.decision === 'approve').map((d) => d.personId);

function isRequester(a: Approval, p: Person): boolean {
  if (a.requester === null) return false;
  return a.requester === p.id || (p.email !== null && a.requester.toLowerCase() === p.email.toLowerCase());
}

/**
 * Human approval of held calls (DESIGN.md, "approve" stage). An approval is bound to the
 * agent, the task and the canonical digest of the action and its arguments; N eligible
 * approvers must accept it, any one denial ends it, and it expires. An approved call passes
 * once: the retry that consumes the approval, and no other.
 *
 * Waiting never holds a database connection: a waiter is woken at once by a decision made in
 * this process, and re-reads the store every `pollIntervalMs` for decisions made elsewhere.
 * Expiry is applied lazily, whenever an approval is read, and recorded exactly once.
 */
export class ApprovalService {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly pollMs: number;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly settings: ApprovalSettings,
    private readonly notifier: ApprovalNotifier = NO_NOTIFIER,
  ) {
    this.pollMs = settings.pollIntervalMs ?? 200;
  }

  /**
   * Holds a call for people: resolves to the approval that governs it — the open one for the
   * same task and digest (identical calls held at once share it), a denial not yet expired, or
   * a new pending one, recorded as `approval.request` and announced to the webhooks.
   */
  async hold(req: HoldRequest): Promise<Approval> {
    const now = this.clock.now();
    // Expiries are recorded before the store is asked, so none is applied unrecorded there.
    await this.sweep(now);
    const candidate = ApprovalSchema.parse({
      id: this.ids.next('approval'),
      agentId: req.agentId,
      taskId: req.taskId,
      action: req.action,
      argsDigest: canonicalArgsDigest(req.action, req.args),
      args: req.shownArgs ?? req.args,
      required: req.required,
      requester: req.requester,
      selfApproval: req.selfApproval,
      policies: [...req.policies],
      status: 'pending',
      createdAt: now,
      expiresAt: now + this.settings.expirySec * 1000,
      resolvedAt: null,
      decisions: [],
    });
    const { approval, created } = await this.store.getOrInsertApproval(candidate, now);
    if (created) {
      await this.events.record({
        type: 'approval.request',
        outcome: 'success',
        actor: { kind: 'agent', id: approval.agentId },
        subject: approval.id,
        chain: approvalChain(approval),
        data: {
          agent: approval.agentId,
          task: approval.taskId,
          action: approval.action,
          argsDigest: approval.argsDigest,
          required: approval.required,
          requester: approval.requester,
          selfApproval: approval.selfApproval,
          policies: approval.policies,
          expiresAt: approval.expiresAt,
        },
      });
      this.notifier.notify('approval.requested', approval);
    }
    return approval;
  }

  /** The approval as it is now (an expired one reads `expired`); APPROVAL_NOT_FOUND otherwise. */
  async get(id: string): Promise<Approval> {
    const parsed = ApprovalIdSchema.safeParse(id);
    const approval = parsed.success ? await this.store.getApproval(parsed.data) : null;
    if (!approval) throw new WardenError('APPROVAL_NOT_FOUND');
    if (isOpen(approval) && approval.expiresAt <= this.clock.now()) {
      await this.sweep(this.clock.now());
      return (await this.store.getApproval(approval.id)) ?? approval;
    }
    return approval;
  }

  /** Newest first, expiries applied. */
  async list(filter: ApprovalFilter = {}): Promise<Approval[]> {
    await this.sweep(this.clock.now());
    return this.store.listApprovals(filter);
  }

  /**
   * One person's decision. Eligible: active people with the `approver` role; the requester
   * may deny but not approve, unless the approval allows self-approval. Every decision is
   * recorded (`approval.decide`), and so is every refused attempt; the decision that settles
   * the approval is also recorded as `approval.resolve`.
   */
  async decide(id: string, person: Person, decision: 'approve' | 'deny', comment?: string): Promise<Approval> {
    if (comment !== undefined && comment.length > 1000) throw new WardenError('INVALID_INPUT', { issues: ['comment: at most 1000 characters'] });
    const actor: Actor = { kind: 'person', id: person.id };
    let approval: Approval | undefined;
    try {
      approval = await this.get(id);
      this.checkEligible(approval, person, decision);
      if (approval.status !== 'pending') throw new WardenError('APPROVAL_CLOSED', { approval: approval.id, status: approval.status });
      const now = this.clock.now();
      const outcome = await this.store.decideApproval(approval.id, { personId: person.id, decision, comment: comment ?? null, at: now }, now);
      if (outcome.kind === 'not_found') throw new WardenError('APPROVAL_NOT_FOUND');
      if (outcome.kind === 'already_decided') throw new WardenError('APPROVAL_ALREADY_DECIDED', { approval: approval.id });
      if (outcome.kind === 'closed') {
        // Pending but past its expiry: the store left it for the sweep to mark and record.
        const status = outcome.approval.status === 'pending' ? 'expired' : outcome.approval.status;
        throw new WardenError('APPROVAL_CLOSED', { approval: approval.id, status });
      }
      const after = outcome.approval;
      await this.events.record({
        type: 'approval.decide',
        outcome: 'success',
        actor,
        subject: after.id,
        chain: approvalChain(after),
        data: { decision, comment: comment ?? null, status: after.status, task: after.taskId, action: after.action, argsDigest: after.argsDigest },
      });
      if (outcome.resolved) await this.recordResolution(after, actor);
      this.wake(after.id);
      this.notifier.notify('approval.decided', after);
      return after;
    } catch (err) {
      if (approval && err instanceof WardenError && REFUSALS.has(err.code)) {
        await this.events.record({
          type: 'approval.decide',
          outcome: 'denied',
          error: err.code,
          actor,
          subject: approval.id,
          chain: approvalChain(approval),
          data: { decision, code: err.code, ...(err.details?.reason ? { reason: err.details.reason } : {}) },
        });
      }
      throw err;
    }
  }

  /**
   * Resolves as soon as the approval is no longer pending (decided here: at once; on another
   * replica: within `pollIntervalMs`; expired: at its expiry), or with the pending approval
   * once `timeoutMs` have passed, or when `signal` aborts.
   */
  async waitForDecision(id: string, timeoutMs: number, signal?: AbortSignal): Promise<Approval> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const approval = await this.get(id);
      const left = deadline - performance.now();
      if (approval.status !== 'pending' || left <= 0 || this.closed || signal?.aborted) return approval;
      const untilExpiry = approval.expiresAt - this.clock.now();
      await this.nap(approval.id, Math.max(1, Math.min(this.pollMs, left, untilExpiry)), signal);
    }
  }

  /**
   * Uses an approved approval for its call. Resolves to the consumed approval for exactly one
   * caller, recorded as `approval.consume`; to null for everyone else (not approved, expired,
   * or already used).
   */
  async consume(id: string): Promise<Approval | null> {
    const parsed = ApprovalIdSchema.safeParse(id);
    if (!parsed.success) return null;
    const { consumed, approval } = await this.store.consumeApproval(parsed.data, this.clock.now());
    if (!consumed || !approval) return null;
    await this.events.record({
      type: 'approval.consume',
      outcome: 'success',
      actor: { kind: 'agent', id: approval.agentId },
      subject: approval.id,
      chain: approvalChain(approval),
      data: { task: approval.taskId, action: approval.action, argsDigest: approval.argsDigest, approvers: approversOf(approval), policies: approval.policies },
    });
    return approval;
  }

  /**
   * The approve stage of the pipeline: holds the call, waits up to `waitSec` for people, then
   * resolves to the consumed approval (the call proceeds, once) or throws APPROVAL_DENIED,
   * APPROVAL_EXPIRED, or APPROVAL_PENDING with `details.approval` — retrying the same call
   * later finds that approval. An identical call that lost the race for an approval gets an
   * approval of its own.
   */
  async requireApproval(req: HoldRequest, opts: { signal?: AbortSignal } = {}): Promise<Approval> {
    const deadline = performance.now() + this.settings.waitSec * 1000;
    let approval = await this.hold(req);
    // Each round ends in a return or a throw, except after losing a consume race, which the
    // next round answers with a fresh approval; three rounds bound a pathological livelock.
    for (let round = 0; round < 3; round++) {
      if (approval.status === 'pending') approval = await this.waitForDecision(approval.id, Math.max(0, deadline - performance.now()), opts.signal);
      switch (approval.status) {
        case 'approved': {
          const consumed = await this.consume(approval.id);
          if (consumed) return consumed;
          break;
        }
        case 'denied':
          throw new WardenError('APPROVAL_DENIED', { approval: approval.id });
        case 'expired':
          throw new WardenError('APPROVAL_EXPIRED', { approval: approval.id });
        case 'pending':
          throw new WardenError('APPROVAL_PENDING', { approval: approval.id, expiresAt: approval.expiresAt });
        case 'consumed':
          break;
      }
      approval = await this.hold(req);
    }
    throw new WardenError('APPROVAL_PENDING', { approval: approval.id, expiresAt: approval.expiresAt });
  }

  /** Marks every approval expired at `now`, recording each (once, across replicas). */
  async sweep(now: number = this.clock.now()): Promise<Approval[]> {
    const expired = await this.store.expireApprovals(now);
    for (const a of expired) {
      await this.recordResolution(a, SYSTEM);
      this.wake(a.id);
    }
    return expired;
  }

  /**
   * Wakes every waiter (they return what they last read; nothing waits after this) and closes
   * the notifier, abandoning webhook deliveries still under way.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.waiters.keys()]) this.wake(id);
    await this.notifier.close?.();
  }

  private checkEligible(approval: Approval, person: Person, decision: 'approve' | 'deny'): void {
    if (person.status !== 'active' || !person.roles.includes('approver')) {
      throw new WardenError('APPROVAL_NOT_ELIGIBLE', { approval: approval.id, reason: 'not an approver' });
    }
    // Denying one's own agent's call is always safe; approving it is the policy's call.
    if (decision === 'approve' && !approval.selfApproval && isRequester(approval, person)) {
      throw new WardenError('APPROVAL_NOT_ELIGIBLE', { approval: approval.id, reason: 'requester' });
    }
  }

  private async recordResolution(a: Approval, actor: Actor): Promise<void> {
    await this.events.record({
      type: 'approval.resolve',
      outcome: a.status === 'approved' ? 'success' : 'denied',
      actor,
      subject: a.id,
      chain: approvalChain(a),
      data: {
        status: a.status,
        agent: a.agentId,
        task: a.taskId,
        action: a.action,
        argsDigest: a.argsDigest,
        required: a.required,
        approvers: approversOf(a),
        deniedBy: a.decisions.find((d) => d.decision === 'deny')?.personId ?? null,
        policies: a.policies,
      },
    });
  }

  private wake(id: string): void {
    for (const done of [...(this.waiters.get(id) ?? [])]) done();
  }

  /** Sleeps up to `ms`, returning early when `id` is decided here or `signal` aborts. */
  private nap(id: ApprovalId, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(id);
      if (!set) this.waiters.set(id, (set = new Set()));
      const waiting = set;
      const done = (): void => {
        clearTimeout(timer);
        waiting.delete(done);
        if (waiting.size === 0 && this.waiters.get(id) === waiting) this.waiters.delete(id);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiting.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** An approval's links in the attribution chain: the call it governs, by agent, task and digest. */
function approvalChain(a: Approval): Chain {
  return { approvals: [a.id], agent: a.agentId, task: a.taskId, tool: a.action, argsDigest: a.argsDigest };
}
