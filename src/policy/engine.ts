import { createHash } from 'node:crypto';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { CatalogTool } from '../config/schema.js';
import type { Agent } from '../domain/index.js';
import { NS, START_TASK, generateCedarSchema } from './cedar-schema.js';
import { argsToCedar, timeContext } from './context-values.js';
import { compilePolicySet, type CompiledPolicySet, type CompileResult, type LoadedPolicy } from './policy-set.js';

/** The person a task acts for, as policies see them. */
export interface PolicyPerson {
  readonly sub: string;
  readonly iss: string;
  readonly name?: string;
  readonly email?: string;
  /** Warden roles (`admin`, `approver`, …) as at the grant; none for OIDC people. */
  readonly roles?: readonly string[];
}

/**
 * A person's entity id: a Warden person's id (`prs_…`), else `<issuer>#<sub>`, so two issuers'
 * subjects never collide.
 */
export function personEntityId(p: PolicyPerson): string {
  return p.iss === 'warden' ? p.sub : `${p.iss}#${p.sub}`;
}

function personEntity(p: PolicyPerson): cedar.EntityJson {
  return {
    uid: uid('Person', personEntityId(p)),
    attrs: {
      sub: p.sub,
      iss: p.iss,
      ...(p.name !== undefined ? { name: p.name } : {}),
      ...(p.email !== undefined ? { email: p.email } : {}),
      roles: [...(p.roles ?? [])],
    },
    parents: [],
  };
}

const personRef = (p: PolicyPerson) => ({ __entity: uid('Person', personEntityId(p)) });

/**
 * What the task has seen, as Cedar reads it in `context.flow` (DESIGN.md "Flow control"):
 * monotone labels, the argument paths carrying a value seen only in untrusted content, the
 * effective sink of this call, and what the deployment wants done about a toxic flow.
 */
export interface FlowFacts {
  readonly untrustedRead: boolean;
  readonly confidentialRead: boolean;
  readonly argsFromUntrusted: readonly string[];
  readonly sink?: 'none' | 'internal' | 'external';
  readonly onViolation?: 'approve' | 'deny';
}

export interface CallRequest {
  readonly agent: Agent;
  readonly task: { readonly id: string; readonly purpose: string; readonly scope: readonly string[]; readonly createdAt: number; readonly ticket: string | null };
  readonly person: PolicyPerson | null;
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly nowMs: number;
  /** Session flow facts (flow/flow-tracker.ts); absent: nothing read yet. */
  readonly flow?: FlowFacts;
  readonly anomalyScore?: number;
}

export interface StartTaskRequest {
  readonly agent: Agent;
  readonly taskId: string;
  readonly purpose: string;
  readonly scope: readonly string[];
  readonly lifetimeSec: number;
  readonly ticket: string | null;
  readonly person: PolicyPerson | null;
  readonly nowMs: number;
}

/**
 * A decision keeps "denied" apart from "could not evaluate" (Cedar's own distinction):
 * `failed` denies too, and is recorded as a failure, not as a policy outcome.
 */
export interface PolicyDecision {
  readonly kind: 'allow' | 'deny' | 'approval' | 'failed';
  /** The policies that decided (permits for allow/approval, forbids for deny). */
  readonly policies: readonly string[];
  readonly errors: readonly { readonly policy: string; readonly message: string }[];
  /** For `approval`: how many approvers must accept the exact call. */
  readonly approvals: number;
  readonly selfApproval: boolean;
  readonly revision: string;
  /** For `deny` without a forbid: why (`no permit`, `unknown tool`). */
  readonly reason?: string;
}

export interface CedarRequest {
  principal: cedar.EntityUid;
  action: cedar.EntityUid;
  resource: cedar.EntityUid;
  context: cedar.Context;
  entities: cedar.Entities;
}

const uid = (type: string, id: string) => ({ type: `${NS}::${type}`, id });

/**
 * Warden's Cedar engine: the catalog's schema, the current policy set (parsed once, evaluated
 * many times through cedar-wasm's pre-parsed sets), and the two decision points.
 *
 * Reload is atomic: a new set is compiled and validated aside, pre-parsed into the slot not
 * in use, and only then made current; a set that fails keeps the old one deciding.
 */
/** Decisions kept per engine: enough for a busy gateway's distinct calls within a second. */
const DECISION_CACHE_SIZE = 10_000;

export class PolicyEngine {
  private current: CompiledPolicySet | null = null;
  private slot = 0;
  private slotId = '';
  /**
   * Decisions by request. Cedar is deterministic: the same request and entities under the same
   * policy set always get the same answer, so a repeated call (same agent facts, task, person,
   * tool, arguments, flow facts) is answered from here. Facts that change every second (the
   * clock, a task's age) are part of the key only when some policy reads them.
   */
  private readonly decisions = new Map<string, PolicyDecision>();
  private volatile = { unix: true, ageSec: true };
  private readonly schemaName: string;
  private readonly tools: ReadonlyMap<string, CatalogTool>;
  readonly schema: Record<string, unknown>;

  constructor(
    tools: readonly CatalogTool[],
    private readonly instance = `warden-${Math.random().toString(36).slice(2, 10)}`,
  ) {
    this.tools = new Map(tools.map((t) => [t.name, t]));
    this.schema = generateCedarSchema(tools);
    this.schemaName = `${instance}-schema`;
    const parsed = cedar.preparseSchema(this.schemaName, this.schema as cedar.Schema);
    if (parsed.type === 'failure') throw new TypeError(`generated Cedar schema does not parse: ${parsed.errors.map((e) => e.message).join('; ')}`);
  }

  get revision(): string | null {
    return this.current?.revision ?? null;
  }

  get policies(): ReadonlyMap<string, LoadedPolicy> {
    return this.current?.policies ?? new Map();
  }

  tool(name: string): CatalogTool | undefined {
    return this.tools.get(name);
  }

  /** Compiles `files` and, only if they are valid, makes them the deciding set. */
  install(files: readonly { name: string; text: string }[]): CompileResult {
    const result = compilePolicySet(files, this.schema);
    if (!result.ok) return result;
    const next = `${this.instance}-set-${(this.slot + 1) % 2}`;
    const parsed = cedar.preparsePolicySet(next, { staticPolicies: result.set.staticPolicies });
    if (parsed.type === 'failure') {
      return { ok: false, problems: parsed.errors.map((e) => ({ file: '(set)', line: 0, message: e.message })) };
    }
    this.slot = (this.slot + 1) % 2;
    this.slotId = next;
    this.current = result.set;
    const texts = Object.values(result.set.staticPolicies).join('\n');
    this.volatile = { unix: /\bunix\b/.test(texts), ageSec: /\bageSec\b/.test(texts) };
    this.decisions.clear();
    return result;
  }

  decideCall(req: CallRequest): PolicyDecision {
    const cedarRequest = this.callRequest(req);
    return cedarRequest ? this.evaluate(cedarRequest) : this.denied('unknown tool');
  }

  /** The Cedar request for a call, or null for a tool the catalog does not know. */
  callRequest(req: CallRequest): CedarRequest | null {
    const tool = this.tools.get(req.tool);
    if (!tool) return null;
    const args = argsToCedar(req.args, tool.inputSchema) ?? {};
    return {
      principal: uid('Agent', req.agent.id),
      action: uid('Action', tool.name),
      resource: uid('Tool', tool.name),
      context: {
        args: args as cedar.CedarValueJson,
        tool: {
          name: tool.name,
          server: tool.name.split('.')[0]!,
          risk: tool.risk,
          tags: tool.tags,
          // The sink may depend on the arguments (an address outside the organisation).
          labels: { source: tool.labels.source, data: tool.labels.data, sink: req.flow?.sink ?? tool.labels.sink },
        },
        task: {
          id: req.task.id,
          purpose: req.task.purpose,
          scope: [...req.task.scope],
          ageSec: Math.max(0, Math.floor((req.nowMs - req.task.createdAt) / 1000)),
          ...(req.task.ticket ? { ticket: req.task.ticket } : {}),
        },
        ...(req.person ? { person: personRef(req.person) } : {}),
        time: timeContext(req.nowMs),
        flow: {
          untrustedRead: req.flow?.untrustedRead ?? false,
          confidentialRead: req.flow?.confidentialRead ?? false,
          argsFromUntrusted: [...(req.flow?.argsFromUntrusted ?? [])],
          onViolation: req.flow?.onViolation ?? 'approve',
        },
        anomaly: { score: req.anomalyScore ?? 0 },
      },
      entities: [
        this.agentEntity(req.agent),
        { uid: uid('Tool', tool.name), attrs: { server: tool.name.split('.')[0]!, risk: tool.risk }, parents: [] },
        ...(req.person ? [personEntity(req.person)] : []),
      ],
    };
  }

  decideStartTask(req: StartTaskRequest): PolicyDecision {
    return this.evaluate(this.startTaskRequest(req));
  }

  startTaskRequest(req: StartTaskRequest): CedarRequest {
    return {
      principal: uid('Agent', req.agent.id),
      action: uid('Action', START_TASK),
      resource: uid('Task', req.taskId),
      context: {
        purpose: req.purpose,
        scope: [...req.scope],
        lifetimeSec: req.lifetimeSec,
        ...(req.ticket ? { ticket: req.ticket } : {}),
        ...(req.person ? { person: personRef(req.person) } : {}),
        time: timeContext(req.nowMs),
      },
      entities: [
        this.agentEntity(req.agent),
        {
          uid: uid('Task', req.taskId),
          attrs: { purpose: req.purpose, ...(req.person ? { person: personRef(req.person) } : {}) },
          parents: [],
        },
        ...(req.person ? [personEntity(req.person)] : []),
      ],
    };
  }

  /** The schema as cedar-wasm takes it, for one-off evaluations (explain). */
  get cedarSchema(): cedar.Schema {
    return this.schema as cedar.Schema;
  }

  private agentEntity(a: Agent): cedar.EntityJson {
    return { uid: uid('Agent', a.id), attrs: { name: a.name, owner: a.owner, riskCategory: a.riskCategory, status: a.status }, parents: [] };
  }

  private denied(reason: string): PolicyDecision {
    return { kind: 'deny', policies: [], errors: [], approvals: 0, selfApproval: false, revision: this.current?.revision ?? '', reason };
  }

  /** Decides a prepared request with the current set (from the cache when it was decided before). */
  evaluate(req: CedarRequest): PolicyDecision {
    if (!this.current) return this.evaluateUncached(req);
    const key = this.cacheKey(req);
    const known = this.decisions.get(key);
    if (known) return known;
    const decision = this.evaluateUncached(req);
    // An evaluation that failed is not kept: it may have been the engine, not the request.
    if (decision.kind !== 'failed') {
      if (this.decisions.size >= DECISION_CACHE_SIZE) this.decisions.delete(this.decisions.keys().next().value!);
      this.decisions.set(key, decision);
    }
    return decision;
  }

  /**
   * The request's digest: the cache holds up to 10,000 decisions, and keyed by the request's
   * text it would hold each call's arguments too — up to the body limit each, memory an agent
   * could fill at will. SHA-256 keeps a key at 43 characters whatever the request.
   */
  private cacheKey(req: CedarRequest): string {
    const ctx = req.context as Record<string, unknown> & { time?: Record<string, unknown>; task?: Record<string, unknown> };
    const time = ctx.time && !this.volatile.unix ? { ...ctx.time, unix: 0 } : ctx.time;
    const task = ctx.task && !this.volatile.ageSec ? { ...ctx.task, ageSec: 0 } : ctx.task;
    const text = JSON.stringify([req.principal, req.action, req.resource, { ...ctx, ...(time ? { time } : {}), ...(task ? { task } : {}) }, req.entities]);
    return createHash('sha256').update(text).digest('base64url');
  }

  private evaluateUncached(req: CedarRequest): PolicyDecision {
    const set = this.current;
    if (!set) return { kind: 'failed', policies: [], errors: [{ policy: '(none)', message: 'no policy set loaded' }], approvals: 0, selfApproval: false, revision: '' };
    let answer: cedar.AuthorizationAnswer;
    try {
      answer = cedar.statefulIsAuthorized({ ...req, preparsedPolicySetId: this.slotId, preparsedSchemaName: this.schemaName, validateRequest: false });
    } catch (err) {
      return { kind: 'failed', policies: [], errors: [{ policy: '(engine)', message: err instanceof Error ? err.message : 'evaluation threw' }], approvals: 0, selfApproval: false, revision: set.revision };
    }
    if (answer.type === 'failure') {
      return { kind: 'failed', policies: [], errors: answer.errors.map((e) => ({ policy: '(request)', message: e.message })), approvals: 0, selfApproval: false, revision: set.revision };
    }
    const { decision, diagnostics } = answer.response;
    const errors = diagnostics.errors.map((e) => ({ policy: e.policyId, message: e.error.message }));
    const policies = diagnostics.reason;
    // Fail closed: a policy that could not be evaluated might have been a forbid.
    if (errors.length > 0) return { kind: 'failed', policies, errors, approvals: 0, selfApproval: false, revision: set.revision };
    if (decision === 'deny') {
      return { kind: 'deny', policies, errors, approvals: 0, selfApproval: false, revision: set.revision, ...(policies.length === 0 ? { reason: 'no permit' } : {}) };
    }
    // Among the permits that held, the strictest approval requirement wins: another, looser
    // permit must not be a way around the approval a policy asks for.
    const permits = policies.map((id) => set.policies.get(id)).filter((p): p is LoadedPolicy => p !== undefined);
    const approvals = Math.max(0, ...permits.map((p) => p.approvals));
    if (approvals === 0) return { kind: 'allow', policies, errors, approvals: 0, selfApproval: false, revision: set.revision };
    const asking = permits.filter((p) => p.approvals > 0);
    return {
      kind: 'approval',
      policies: asking.map((p) => p.id),
      errors,
      approvals,
      selfApproval: asking.every((p) => p.selfApproval),
      revision: set.revision,
    };
  }
}
