import {
  isTaskLive,
  TaskIdSchema,
  type Actor,
  type Agent,
  type AgentId,
  type OnBehalfOf,
  type Task,
  type TaskId,
  type TaskStatus,
} from '../domain/index.js';
import { WardenError } from '../errors/warden-error.js';
import type { EventLog } from '../events/event-log.js';
import { decisionLink } from '../policy/decision-link.js';
import type { RevocationSet } from '../revocation/revocation-set.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { IdGenerator } from '../util/id-generator.js';
import type { PolicyDecision } from '../policy/engine.js';
import type { PolicyService } from '../policy/policy-service.js';
import { canonicalArgsDigest, requesterOf, type ApprovalService } from '../approvals/approval-service.js';
import { uncovered } from './capabilities.js';

/** The action name a held task grant's approval carries. */
export const START_TASK_ACTION = 'start_task';

export interface TaskRequest {
  readonly agent: Agent;
  readonly purpose: string;
  readonly scope: readonly string[];
  readonly lifetimeSec: number | undefined;
  readonly ticket: string | undefined;
  readonly onBehalfOf: OnBehalfOf | null;
}

/**
 * Tasks: one unit of authorized work each. A task is granted only within the agent's profile
 * (capabilities and maximum lifetime); its tokens die with it.
 */
export class TaskService {
  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly revocations: RevocationSet,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly defaultLifetimeSec: number,
    private readonly policy: PolicyService,
    private readonly approvals: ApprovalService,
  ) {}

  /** Grants a task, or records why not and throws. */
  async grant(req: TaskRequest): Promise<Task> {
    const { agent } = req;
    const actor: Actor = { kind: 'agent', id: agent.id };
    try {
      const outside = uncovered(agent.capabilities, req.scope);
      if (outside.length > 0) throw new WardenError('SCOPE_EXCEEDED', { outside: outside.slice(0, 20) });
      const lifetimeSec = req.lifetimeSec ?? Math.min(this.defaultLifetimeSec, agent.maxTaskLifetimeSec);
      if (lifetimeSec > agent.maxTaskLifetimeSec) {
        throw new WardenError('LIFETIME_EXCEEDED', { requested: lifetimeSec, max: agent.maxTaskLifetimeSec });
      }
      const now = this.clock.now();
      let id = this.ids.next('task') as TaskId;
      const decision = await this.decideStart(req, id, lifetimeSec, now);
      let approval: string | null = null;
      if (decision.kind === 'approval') {
        const held = await this.holdGrant(req, id, lifetimeSec, decision);
        id = held.taskId;
        approval = held.approvalId;
      }
      const task: Task = {
        id,
        agentId: agent.id,
        purpose: req.purpose,
        scope: [...new Set(req.scope)],
        onBehalfOf: req.onBehalfOf,
        ticket: req.ticket ?? null,
        status: 'active',
        createdAt: now,
        expiresAt: now + lifetimeSec * 1000,
        endedAt: null,
        endReason: null,
      };
      await this.store.insertTask(task);
      await this.events.record({
        type: 'task.grant',
        outcome: 'success',
        actor,
        subject: task.id,
        chain: {
          ...(task.onBehalfOf ? { person: { sub: task.onBehalfOf.sub, iss: task.onBehalfOf.iss } } : {}),
          ...(approval ? { approvals: [approval] } : {}),
          agent: agent.id,
          task: task.id,
        },
        data: {
          agent: agent.id,
          purpose: task.purpose,
          scope: task.scope,
          expiresAt: task.expiresAt,
          onBehalfOf: task.onBehalfOf ? { sub: task.onBehalfOf.sub, iss: task.onBehalfOf.iss } : null,
          ticket: task.ticket,
          ...(approval ? { approval } : {}),
        },
      });
      return task;
    } catch (err) {
      if (err instanceof WardenError && err.code !== 'INTERNAL' && err.code !== 'STORE_UNAVAILABLE') {
        await this.events.record({
          type: 'task.deny',
          outcome: 'denied',
          error: err.code,
          actor,
          subject: agent.id,
          chain: { ...(req.onBehalfOf ? { person: { sub: req.onBehalfOf.sub, iss: req.onBehalfOf.iss } } : {}), agent: agent.id },
          data: { code: err.code, scope: [...req.scope], purpose: req.purpose },
        });
      }
      throw err;
    }
  }

  /**
   * The start_task decision point: may this agent get a task with these capabilities, for this
   * person, for this long? Recorded whatever the answer.
   */
  private async decideStart(req: TaskRequest, id: TaskId, lifetimeSec: number, now: number): Promise<PolicyDecision> {
    const d = this.policy.engine.decideStartTask({
      agent: req.agent,
      taskId: id,
      purpose: req.purpose,
      scope: req.scope,
      lifetimeSec,
      ticket: req.ticket ?? null,
      person: req.onBehalfOf,
      nowMs: now,
    });
    await this.events.record({
      type: 'policy.decide',
      outcome: d.kind === 'allow' ? 'success' : d.kind === 'failed' ? 'failure' : 'denied',
      actor: { kind: 'agent', id: req.agent.id },
      subject: id,
      chain: {
        ...(req.onBehalfOf ? { person: { sub: req.onBehalfOf.sub, iss: req.onBehalfOf.iss } } : {}),
        agent: req.agent.id,
        task: id,
        decision: decisionLink(d),
      },
      data: {
        point: 'start_task',
        agent: req.agent.id,
        person: req.onBehalfOf ? { sub: req.onBehalfOf.sub, iss: req.onBehalfOf.iss } : null,
        decision: d.kind,
        policies: d.policies,
        errors: d.errors,
        revision: d.revision,
        scope: [...req.scope],
      },
    });
    if (d.kind === 'failed') throw new WardenError('POLICY_EVALUATION_FAILED', { policies: d.errors.map((e) => e.policy) });
    if (d.kind === 'deny') throw new WardenError('POLICY_DENIED', { policies: d.policies, ...(d.reason ? { reason: d.reason } : {}) });
    return d;
  }

  /**
   * A task grant a policy holds for people. The approval is bound to the agent and the digest
   * of exactly what was asked (purpose, scope, lifetime, ticket, person) and names the task id
   * the grant will carry: approvers see the task that will exist, and the agent's retry of the
   * same request finds the same approval by agent and digest (a new task id is drawn per
   * request), waits for it like a held call, and is granted that task once. A retry that asks
   * for anything else — one more capability, a longer lifetime — is a new approval.
   */
  private async holdGrant(req: TaskRequest, fresh: TaskId, lifetimeSec: number, d: PolicyDecision): Promise<{ taskId: TaskId; approvalId: string }> {
    const args = {
      purpose: req.purpose,
      scope: [...new Set(req.scope)].sort(),
      lifetimeSec,
      ticket: req.ticket ?? null,
      person: req.onBehalfOf ? { sub: req.onBehalfOf.sub, iss: req.onBehalfOf.iss } : null,
    };
    const argsDigest = canonicalArgsDigest(START_TASK_ACTION, args);
    const now = this.clock.now();
    const governing = (await this.approvals.list({ agentId: req.agent.id, action: START_TASK_ACTION, argsDigest, limit: 10 })).find(
      (a) => (a.status === 'pending' || a.status === 'approved' || a.status === 'denied') && a.expiresAt > now,
    );
    const taskId = (governing?.taskId ?? fresh) as TaskId;
    const consumed = await this.approvals.requireApproval({
      agentId: req.agent.id,
      taskId,
      action: START_TASK_ACTION,
      args,
      required: d.approvals,
      requester: requesterOf(req.onBehalfOf),
      selfApproval: d.selfApproval,
      policies: d.policies,
    });
    return { taskId, approvalId: consumed.id };
  }

  async get(id: string): Promise<Task> {
    const parsed = TaskIdSchema.safeParse(id);
    const task = parsed.success ? await this.store.getTask(parsed.data) : null;
    if (!task) throw new WardenError('TASK_NOT_FOUND');
    return task;
  }

  /** A task of this agent that can still have tokens; TASK_ENDED otherwise. */
  async getLive(id: string, agentId: AgentId): Promise<Task> {
    const task = await this.get(id).catch(() => null);
    // Another agent's task is reported as not found: ids are not an oracle.
    if (!task || task.agentId !== agentId) throw new WardenError('TASK_NOT_FOUND');
    if (!isTaskLive(task, this.clock.now())) throw new WardenError('TASK_ENDED', { task: task.id });
    return task;
  }

  list(filter: { agentId?: AgentId; status?: TaskStatus; limit?: number }): Promise<Task[]> {
    return this.store.listTasks(filter);
  }

  /** Revokes a task: its tokens stop working on the next request. */
  async revoke(id: string, reason: string, actor: Actor): Promise<Task> {
    return this.end(await this.get(id), 'revoked', reason, actor);
  }

  /** The agent says it is done; the task's tokens stop working. */
  async complete(id: TaskId, agentId: AgentId): Promise<Task> {
    const task = await this.getLive(id, agentId);
    return this.end(task, 'completed', 'completed by agent', { kind: 'agent', id: agentId });
  }

  private async end(task: Task, status: 'completed' | 'revoked', reason: string, actor: Actor): Promise<Task> {
    await this.revocations.revoke({
      kind: 'task',
      value: task.id,
      reason,
      createdAt: this.clock.now(),
      expiresAt: task.expiresAt,
      liftedAt: null,
    });
    const ended = await this.store.endTask(task.id, status, reason, this.clock.now());
    if (!ended) throw new WardenError('TASK_NOT_FOUND');
    await this.events.record({
      type: status === 'revoked' ? 'task.revoke' : 'task.complete',
      outcome: 'success',
      actor,
      subject: task.id,
      data: { reason, agent: task.agentId, onBehalfOf: task.onBehalfOf ? { sub: task.onBehalfOf.sub, iss: task.onBehalfOf.iss } : null },
    });
    return ended;
  }
}
