import type { Agent, Task } from '../../domain/index.js';
import { WardenError } from '../../errors/warden-error.js';
import type { EventLog } from '../../events/event-log.js';
import { matches } from '../../identity/capabilities.js';
import { canonicalArgsDigest } from '../../approvals/approval-service.js';
import type { CallRequest, PolicyDecision } from '../../policy/engine.js';
import type { PolicyService } from '../../policy/policy-service.js';
import type { Clock } from '../../util/clock.js';
import { isVerified, type VerifiedCredential } from '../verified-credential.js';
import { credentialChain } from '../credential-chain.js';
import { decisionLink } from '../../policy/decision-link.js';
import { flowData, flowMatters } from '../../flow/flow-data.js';

export interface ToolCall {
  /** `server.tool` */
  readonly tool: string;
  readonly args: Record<string, unknown>;
}

export interface AuthorizedCall {
  readonly decision: PolicyDecision;
  readonly agent: Agent;
  readonly task: Task;
  /** JCS + SHA-256 of `{ action, args }`: what an approval is bound to. */
  readonly argsDigest: string;
}

/**
 * Stage 4 (after authenticate, check-revoked, limits): the task's scope first — a token never
 * reaches beyond the capabilities it was granted, whatever a policy says — then Cedar, in
 * context. Every decision is recorded, with the policies and the revision that made it;
 * `deny` and "could not evaluate" both stop the call here.
 */
export async function authorizeCall(
  deps: { policy: PolicyService; events: EventLog; clock: Clock; agent: Agent; task: Task },
  cred: VerifiedCredential,
  call: ToolCall,
  opts: {
    readonly recordAllowed?: boolean;
    readonly flow?: CallRequest['flow'];
    /** The arguments the call is bound and recorded by, when they differ from those decided on (secret arguments masked). */
    readonly digestArgs?: Record<string, unknown>;
  } = {},
): Promise<AuthorizedCall> {
  if (!isVerified(cred)) throw new TypeError('authorizeCall needs a credential from the authenticate stage');
  const { agent, task } = deps;
  const argsDigest = canonicalArgsDigest(call.tool, opts.digestArgs ?? call.args);
  const base = { agent: agent.id, task: task.id, tool: call.tool, argsDigest, person: cred.onBehalfOf, ...(opts.flow && flowMatters(opts.flow) ? { flow: flowData(opts.flow) } : {}) };
  if (!cred.scope.some((pattern) => matches(pattern, call.tool))) {
    await deps.events.record({
      type: 'policy.decide',
      outcome: 'denied',
      error: 'SCOPE_DENIED',
      actor: { kind: 'agent', id: agent.id },
      subject: task.id,
      chain: { ...credentialChain(cred, call.tool), decision: { effect: 'deny', policies: [] }, argsDigest },
      data: { ...base, point: 'call', decision: 'deny', reason: 'outside task scope' },
    });
    throw new WardenError('SCOPE_DENIED', { tool: call.tool });
  }
  const decision = deps.policy.engine.decideCall({
    agent,
    task: { id: task.id, purpose: task.purpose, scope: task.scope, createdAt: task.createdAt, ticket: task.ticket },
    // The task's record of the person (with their roles as at the grant), not the token's claim.
    person: task.onBehalfOf,
    tool: call.tool,
    args: call.args,
    nowMs: deps.clock.now(),
    ...(opts.flow ? { flow: opts.flow } : {}),
  });
  // A front door that writes the call's intent entry records an allow there, with the decision
  // in it: one durable write fewer on the hot path. Denials are always recorded here.
  // A call held because of what the task has read is recorded here too, with the flow facts.
  const recordHere =
    opts.recordAllowed !== false || (decision.kind !== 'allow' && decision.kind !== 'approval') || (decision.kind === 'approval' && opts.flow !== undefined && flowMatters(opts.flow));
  if (recordHere) await deps.events.record({
    type: 'policy.decide',
    outcome: decision.kind === 'allow' || decision.kind === 'approval' ? 'success' : decision.kind === 'failed' ? 'failure' : 'denied',
    ...(decision.kind === 'deny' ? { error: 'POLICY_DENIED' } : decision.kind === 'failed' ? { error: 'POLICY_EVALUATION_FAILED' } : {}),
    actor: { kind: 'agent', id: agent.id },
    subject: task.id,
    chain: { ...credentialChain(cred, call.tool), decision: decisionLink(decision), argsDigest },
    data: {
      ...base,
      point: 'call',
      decision: decision.kind,
      policies: decision.policies,
      errors: decision.errors,
      approvals: decision.approvals,
      revision: decision.revision,
      ...(decision.reason ? { reason: decision.reason } : {}),
    },
  });
  if (decision.kind === 'deny') throw new WardenError('POLICY_DENIED', { policies: decision.policies, ...(decision.reason ? { reason: decision.reason } : {}) });
  if (decision.kind === 'failed') throw new WardenError('POLICY_EVALUATION_FAILED', { policies: decision.errors.map((e) => e.policy) });
  return { decision, agent, task, argsDigest };
}
