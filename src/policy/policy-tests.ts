import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { CatalogToolSchema, type CatalogTool } from '../config/schema.js';
import { RiskCategorySchema, type Agent } from '../domain/index.js';
import { PolicyEngine, type CallRequest, type CedarRequest, type PolicyDecision, type StartTaskRequest } from './engine.js';
import type { PolicyProblem } from './policy-set.js';

/**
 * One request in the form people write in test files and `warden policy explain`: the
 * action (`server.tool` or `start_task`), its arguments and the facts around it; everything
 * not given takes a plain default.
 */
export const PolicyRequestSchema = z
  .object({
    action: z.string().min(1),
    args: z.record(z.string(), z.unknown()).default({}),
    agent: z
      .object({ name: z.string().default('test-agent'), owner: z.string().default('owner@example.com'), riskCategory: RiskCategorySchema.default('limited'), status: z.enum(['active', 'suspended', 'retired']).default('active') })
      .strict()
      .default({ name: 'test-agent', owner: 'owner@example.com', riskCategory: 'limited', status: 'active' }),
    person: z
      .object({ sub: z.string(), iss: z.string().default('warden'), name: z.string().optional(), email: z.string().optional(), roles: z.array(z.string()).max(10).default([]) })
      .strict()
      .optional(),
    task: z
      .object({ purpose: z.string().default('a test task'), scope: z.array(z.string()).default(['**']), ageSec: z.number().int().min(0).default(0), lifetimeSec: z.number().int().min(0).default(3600), ticket: z.string().optional() })
      .strict()
      .default({ purpose: 'a test task', scope: ['**'], ageSec: 0, lifetimeSec: 3600 }),
    flow: z
      .object({
        untrustedRead: z.boolean().default(false),
        confidentialRead: z.boolean().default(false),
        argsFromUntrusted: z.array(z.string()).default([]),
        sink: z.enum(['none', 'internal', 'external']).optional(),
        onViolation: z.enum(['approve', 'deny']).optional(),
      })
      .strict()
      .optional(),
    /** ISO time of the request (time-of-day policies); default: now. */
    time: z.iso.datetime().optional(),
  })
  .strict();
export type PolicyRequest = z.infer<typeof PolicyRequestSchema>;

export const PolicyTestFileSchema = z
  .object({
    /** The catalog the cases are written against; default: the catalog in warden.yaml. */
    tools: z.array(CatalogToolSchema).optional(),
    cases: z
      .array(
        PolicyRequestSchema.extend({
          name: z.string().min(1),
          expect: z.enum(['allow', 'deny', 'approval', 'failed']),
          /** Exactly the policies expected to decide, when given. */
          policies: z.array(z.string()).optional(),
          approvals: z.number().int().min(1).optional(),
        }).strict(),
      )
      .min(1),
  })
  .strict();

export interface CaseResult {
  readonly file: string;
  readonly name: string;
  readonly passed: boolean;
  readonly expected: string;
  readonly actual: string;
}

const TEST_AGENT_ID = 'agt_000000000000000000000test';
const TEST_TASK_ID = 'tsk_000000000000000000000test';

/** A test/explain request as the engine's own input: a call, or a start_task request. */
function toEngineRequest(r: PolicyRequest): { call: CallRequest } | { start: StartTaskRequest } {
  const nowMs = r.time ? Date.parse(r.time) : Date.now();
  const agent: Agent = { id: TEST_AGENT_ID as Agent['id'], purpose: 'policy test', capabilities: ['**'], maxTaskLifetimeSec: 86_400, createdAt: 0, updatedAt: 0, ...r.agent };
  const person = r.person ?? null;
  if (r.action === 'start_task') {
    return { start: { agent, taskId: TEST_TASK_ID, purpose: r.task.purpose, scope: r.task.scope, lifetimeSec: r.task.lifetimeSec, ticket: r.task.ticket ?? null, person, nowMs } };
  }
  return {
    call: {
      agent,
      task: { id: TEST_TASK_ID, purpose: r.task.purpose, scope: r.task.scope, createdAt: nowMs - r.task.ageSec * 1000, ticket: r.task.ticket ?? null },
      person,
      tool: r.action,
      args: r.args,
      nowMs,
      ...(r.flow ? { flow: r.flow } : {}),
    },
  };
}

/** The Cedar request for a test/explain request, or null for a tool the catalog does not know. */
export function toCedarRequest(engine: PolicyEngine, r: PolicyRequest): CedarRequest | null {
  const req = toEngineRequest(r);
  return 'start' in req ? engine.startTaskRequest(req.start) : engine.callRequest(req.call);
}

export function decide(engine: PolicyEngine, r: PolicyRequest): PolicyDecision {
  const req = toEngineRequest(r);
  return 'start' in req ? engine.decideStartTask(req.start) : engine.decideCall(req.call);
}

const describeDecision = (d: PolicyDecision): string =>
  `${d.kind}${d.kind === 'approval' ? `(${d.approvals})` : ''}${d.policies.length ? ` by ${[...d.policies].sort().join(', ')}` : ''}${d.errors.length ? ` errors: ${d.errors.map((e) => e.policy).join(', ')}` : ''}`;

/**
 * Runs one test file against a policy set: each case's decision, its deciding policies and
 * approval count as expected. Problems of the policy set or the file come back as problems.
 */
export function runPolicyTestFile(
  file: string,
  text: string,
  policyFiles: readonly { name: string; text: string }[],
  defaultTools: readonly CatalogTool[],
): { results: CaseResult[]; problems: PolicyProblem[] } {
  let doc: z.infer<typeof PolicyTestFileSchema>;
  try {
    const parsed = PolicyTestFileSchema.safeParse(parseYaml(text));
    if (!parsed.success) return { results: [], problems: parsed.error.issues.map((i) => ({ file, line: 0, message: `${i.path.join('.')}: ${i.message}` })) };
    doc = parsed.data;
  } catch {
    return { results: [], problems: [{ file, line: 0, message: 'not valid YAML' }] };
  }
  const engine = new PolicyEngine(doc.tools ?? defaultTools);
  const installed = engine.install(policyFiles);
  if (!installed.ok) return { results: [], problems: installed.problems };
  const results = doc.cases.map((c): CaseResult => {
    const d = decide(engine, c);
    const kindOk = d.kind === c.expect;
    const policiesOk = !c.policies || [...c.policies].sort().join(',') === [...d.policies].sort().join(',');
    const approvalsOk = c.approvals === undefined || c.approvals === d.approvals;
    const expected = `${c.expect}${c.approvals ? `(${c.approvals})` : ''}${c.policies ? ` by ${[...c.policies].sort().join(', ')}` : ''}`;
    return { file, name: c.name, passed: kindOk && policiesOk && approvalsOk, expected, actual: describeDecision(d) };
  });
  return { results, problems: [] };
}
