import type { Agent, Chain, Task } from '../domain/index.js';
import { WardenError } from '../errors/warden-error.js';
import type { EventLog } from '../events/event-log.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { TaskCharges } from '../limits/task-charges.js';
import type { PolicyService } from '../policy/policy-service.js';
import type { RevocationSet } from '../revocation/revocation-set.js';
import type { Store, TaskBudget } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { authorizeCall, type AuthorizedCall, type ToolCall } from './stages/authorize.js';
import { checkRevoked } from './stages/check-revoked.js';
import { credentialChain } from './credential-chain.js';
import type { FlowLabels } from '../config/tool-metadata.js';
import type { FlowTracker } from '../flow/flow-tracker.js';
import { flowData, flowMatters } from '../flow/flow-data.js';
import type { CallsInFlight } from './calls-in-flight.js';
import { isVerified, type VerifiedCredential } from './verified-credential.js';

/** What the inspect stage found and did; never the secret text itself. */
export interface Finding {
  readonly detector: string;
  readonly path: string;
}

/**
 * Secret scanning of outgoing arguments: a credential must not leave through a tool's
 * arguments. (Results are inspected by each front door's forwarder.)
 */
export interface CallScanner {
  /** The arguments as they may leave, or a throw (SECRET_IN_ARGUMENTS). */
  checkArguments(args: Record<string, unknown>): { args: Record<string, unknown>; findings: readonly Finding[] };
}

/**
 * Redacts (or refuses) what came back: injected secrets echoed by the upstream and credentials
 * in well-known formats, anywhere in a JSON value. Never mutates its input.
 */
export type ResultInspector = <T>(value: T, injected: readonly string[]) => { result: T; findings: readonly Finding[] };

/** How one front door forwards a call and measures what came back. */
export interface CallForwarder<R> {
  /** Sends the call upstream (credentials injected there); the caller's signal, if any, aborts it. */
  forward(args: Record<string, unknown>, signal: AbortSignal | undefined): Promise<R>;
  /** Size of the result as received, for the task's bytes-in budget. */
  measure(result: R): number;
  /** Digest of the result as the agent receives it, for the outcome entry. */
  digest(result: R): string;
  /**
   * The inspect stage for this kind of result: secrets (injected ones echoed back, well-known
   * credential formats) redacted, or a throw (SECRET_IN_RESPONSE) when the config blocks.
   */
  inspect(result: R): { result: R; findings: readonly Finding[] };
  /** What of the result the agent reads, for flow tracking (default: the result itself). */
  content?(result: R): unknown;
}

export interface PipelineDeps {
  readonly store: Store;
  readonly events: EventLog;
  readonly clock: Clock;
  readonly revocations: RevocationSet;
  readonly policy: PolicyService;
  readonly rates: RateLimiter;
  /** The task budget: calls and bytes out admitted before a call, its bytes in noted after. */
  readonly charges: TaskCharges;
  readonly scanner: CallScanner;
  /** The approve stage (people, bound to the exact call); resolves to the approval used. */
  readonly approve: (call: AuthorizedCall, cred: VerifiedCredential, toolCall: ToolCall) => Promise<string | null>;
  /** Which calls keep their arguments and results in the audit entries (config `audit.capture`). */
  readonly capture?: PayloadCapture;
  /** Flow labels and argument provenance per task (absent: no tool is labelled untrusted). */
  readonly flow?: FlowTracker;
  /** Agent and task as the pipeline decides on them (cached briefly by the caller). */
  readonly load: (cred: VerifiedCredential) => Promise<{ agent: Agent; task: Task }>;
  /** Counts the calls in the pipeline, for the DPoP check's choice of thread (absent: not counted). */
  readonly inFlight?: CallsInFlight;
}

/** Payload capture for the audit log: what is kept is already redacted, and clipped. */
export interface PayloadCapture {
  wants(tool: string): boolean;
  clip(value: unknown): unknown;
}

/** A call as a front door hands it to the pipeline. */
export interface PipelineCall extends ToolCall {
  /** Which front door: `mcp` or `http`. */
  readonly via: 'mcp' | 'http';
  /** Bytes the call sends upstream (serialized arguments or request body). */
  readonly bytesOut: number;
  /** Facts about the request kept in the audit entries (e.g. HTTP method and path). */
  readonly meta?: Record<string, unknown>;
  /** The tool's flow labels, from the catalog. */
  readonly labels?: FlowLabels;
  /** Top-level arguments that carry a credential by design: not scanned, never shown. */
  readonly secretArgs?: readonly string[];
}

/** What stands in a secret argument's place wherever arguments are shown or kept. */
export const SECRET_ARG = '[secret]';

/** The arguments with each present secret argument replaced by {@link SECRET_ARG}. */
export function maskSecretArgs(args: Record<string, unknown>, secret: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) out[k] = secret.has(k) ? SECRET_ARG : v;
  return out;
}

/**
 * Records a call refused before anything was forwarded (`tool.deny`, with what the front door
 * knows of the call and the error's code) and throws the error.
 */
export async function refuseCall(events: EventLog, cred: VerifiedCredential, data: Record<string, unknown> & { tool?: string }, err: WardenError): Promise<never> {
  const { tool, ...rest } = data;
  await events.record({
    type: 'tool.deny',
    outcome: 'denied',
    error: err.code,
    actor: { kind: 'agent', id: cred.agentId },
    subject: cred.taskId,
    chain: credentialChain(cred, typeof tool === 'string' ? tool : undefined),
    data: rest,
  });
  throw err;
}

/**
 * The one ordered pipeline every tool call and proxied request goes through (DESIGN.md). The
 * caller has already run authenticate and check-revoked on the HTTP request that carried it.
 *
 * Why this order:
 * - limits before anything costly or recorded, so a flood is turned away cheaply;
 * - the argument scan before authorize, so people are never asked to approve a call that would
 *   carry a credential out;
 * - authorize (scope, then Cedar) before approve, and approve before the revocation re-check,
 *   because a held call may wait while its task or agent is revoked;
 * - record-intent before forward: no call leaves Warden without a durable entry of it;
 * - inspect before the result is returned or measured as the agent sees it, record-outcome last.
 *
 * Any stage failing denies the call with its typed error; anything unexpected becomes INTERNAL,
 * is recorded, and its message never reaches the caller.
 */
export function runCall<R>(deps: PipelineDeps, cred: VerifiedCredential, call: PipelineCall, fwd: CallForwarder<R>, signal?: AbortSignal): Promise<R> {
  if (!isVerified(cred)) return Promise.reject(new TypeError('runCall needs a credential from the authenticate stage'));
  return deps.inFlight ? deps.inFlight.around(() => runStages(deps, cred, call, fwd, signal)) : runStages(deps, cred, call, fwd, signal);
}

async function runStages<R>(deps: PipelineDeps, cred: VerifiedCredential, call: PipelineCall, fwd: CallForwarder<R>, signal: AbortSignal | undefined): Promise<R> {
  const actor = { kind: 'agent' as const, id: cred.agentId };
  const refuse = (err: WardenError): Promise<never> => refuseCall(deps.events, cred, { via: call.via, tool: call.tool, ...(err.details ?? {}) }, err);

  // limits
  const rate = deps.rates.take(cred.agentId);
  if (!rate.ok) await refuse(new WardenError('RATE_LIMITED', { retryAfterMs: rate.retryAfterMs }));
  const { agent, task } = await deps.load(cred);
  const charged = await deps.charges.admit(task.id, call.bytesOut);
  if (!charged.ok) await refuse(new WardenError('BUDGET_EXCEEDED', { limit: exceededLimit(charged.usage, call.bytesOut, deps.charges.budget) }));

  // scan outgoing arguments, except those the tool takes a credential in by design
  const secret = call.secretArgs && call.secretArgs.length > 0 ? new Set(call.secretArgs) : undefined;
  let args: Record<string, unknown>;
  let argFindings: readonly Finding[];
  try {
    if (secret) {
      const scanned = deps.scanner.checkArguments(Object.fromEntries(Object.entries(call.args).filter(([k]) => !secret.has(k))));
      args = { ...call.args, ...scanned.args };
      argFindings = scanned.findings;
    } else {
      ({ args, findings: argFindings } = deps.scanner.checkArguments(call.args));
    }
  } catch (err) {
    if (err instanceof WardenError) await refuse(err);
    throw err;
  }
  // What people see, and what the call is bound and recorded by: a secret argument is in none of
  // it, not even in a digest (a plain hash of a short password is a verifier for guessing it).
  const shown = secret ? maskSecretArgs(args, secret) : args;

  // flow facts (what the task has read, where the arguments came from), then authorize, approve,
  // and re-check revocation after any wait
  const flow = deps.flow && call.labels ? await deps.flow.facts(task, call.labels, args) : undefined;
  const authorized = await authorizeCall({ policy: deps.policy, events: deps.events, clock: deps.clock, agent, task }, cred, { tool: call.tool, args }, { recordAllowed: false, ...(flow ? { flow } : {}), ...(secret ? { digestArgs: shown } : {}) });
  const approval = authorized.decision.kind === 'approval' ? await deps.approve(authorized, cred, { tool: call.tool, args: shown }) : null;
  if (approval) checkRevoked(cred, deps.revocations);

  // record-intent: durable before anything leaves
  const d = authorized.decision;
  const chain: Chain = {
    ...credentialChain(cred, call.tool),
    // The task's record of the person, not the token's claim (they agree; the task is authority).
    ...(task.onBehalfOf ? { person: { sub: task.onBehalfOf.sub, iss: task.onBehalfOf.iss } } : {}),
    ...(approval ? { approvals: [approval] } : {}),
  };
  const intent = await deps.events.record({
    type: 'tool.call',
    outcome: 'success',
    actor,
    subject: task.id,
    chain: {
      ...chain,
      decision: { effect: 'allow', policies: [...d.policies], revision: d.revision },
      argsDigest: authorized.argsDigest,
    },
    data: {
      via: call.via,
      bytesOut: call.bytesOut,
      ...(argFindings.length > 0 ? { argumentRedactions: argFindings.map((f) => ({ ...f })) } : {}),
      ...(call.meta ? { request: call.meta } : {}),
      ...(deps.capture?.wants(call.tool) ? { args: deps.capture.clip(shown) } : {}),
      ...(flow && flowMatters(flow) ? { flow: flowData(flow) } : {}),
    },
  });

  // forward (credentials are injected by the forwarder), inspect, record-outcome
  const outcome = (o: Outcome): Promise<unknown> => recordOutcome(deps, actor, chain, intent.seq, call, o);
  const started = performance.now();
  let result: R;
  try {
    result = await fwd.forward(args, signal);
  } catch (err) {
    const we = err instanceof WardenError ? err : new WardenError('INTERNAL', undefined, { cause: err });
    await outcome({ outcome: 'failure', code: we.code, latencyMs: performance.now() - started });
    throw we;
  }
  const latencyMs = performance.now() - started;
  const bytesIn = fwd.measure(result);
  deps.charges.received(task.id, bytesIn);
  let inspected: { result: R; findings: readonly Finding[] };
  try {
    inspected = fwd.inspect(result);
  } catch (err) {
    const we = err instanceof WardenError ? err : new WardenError('INTERNAL', undefined, { cause: err });
    await outcome({ outcome: 'denied', code: we.code, latencyMs, data: { bytesIn, ...(we.details ? { details: we.details } : {}) } });
    throw we;
  }
  // What the agent now has seen changes the task's flow before its next call is decided.
  if (deps.flow && call.labels) {
    const echo = flow && flow.argsFromUntrusted.length > 0 ? { args, paths: flow.argsFromUntrusted } : undefined;
    await deps.flow.observe(task, call.labels, fwd.content ? fwd.content(inspected.result) : inspected.result, echo);
  }
  await outcome({
    outcome: 'success',
    resultDigest: fwd.digest(inspected.result),
    latencyMs,
    data: {
      bytesIn,
      redactions: inspected.findings.map((f) => ({ ...f })),
      ...(deps.capture?.wants(call.tool) ? { result: deps.capture.clip(inspected.result) } : {}),
    },
  });
  return inspected.result;
}

interface Outcome {
  readonly outcome: 'success' | 'failure' | 'denied';
  readonly code?: string;
  readonly resultDigest?: string;
  readonly latencyMs: number;
  readonly data?: Record<string, unknown>;
}

/** `tool.result`: linked to its intent by `data.intent` (the intent's seq) and the same chain. */
function recordOutcome(deps: PipelineDeps, actor: { kind: 'agent'; id: string }, chain: Chain, intentSeq: number, call: PipelineCall, o: Outcome) {
  return deps.events.record({
    type: 'tool.result',
    outcome: o.outcome,
    ...(o.code ? { error: o.code } : {}),
    actor,
    subject: chain.task ?? null,
    chain: { ...chain, ...(o.resultDigest ? { resultDigest: o.resultDigest } : {}) },
    data: { via: call.via, intent: intentSeq, latencyMs: Math.round(o.latencyMs * 1000) / 1000, ...o.data },
  });
}

function exceededLimit(usage: { calls: number; bytesOut: number; bytesIn: number }, bytesOut: number, budget: TaskBudget): string {
  if (budget.calls !== undefined && usage.calls + 1 > budget.calls) return 'calls';
  if (budget.bytesOut !== undefined && usage.bytesOut + bytesOut > budget.bytesOut) return 'bytesOut';
  return 'bytesIn';
}
