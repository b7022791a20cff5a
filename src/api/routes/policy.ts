import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AgentIdSchema } from '../../domain/index.js';
import { WardenError } from '../../errors/warden-error.js';
import { authorizeCall } from '../../pipeline/stages/authorize.js';
import { parseInput } from '../../util/parse-input.js';
import { ADMINS, READERS, requireAgent, requirePerson } from '../auth.js';
import type { ApiContext } from '../context.js';

const ToolCallSchema = z
  .object({
    tool: z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+$/).max(200),
    args: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

/**
 * OpenID AuthZEN Authorization API 1.0, access evaluation (§6): subject, action, resource,
 * context in; `{ decision }` out. Subjects are Warden agents, actions tools (`server.tool`) or
 * `start_task`; the context may carry `args`, and `task` for a call.
 */
const AuthZenRequestSchema = z
  .object({
    subject: z.object({ type: z.literal('agent'), id: AgentIdSchema, properties: z.record(z.string(), z.unknown()).optional() }).strict(),
    action: z.object({ name: z.string().min(1).max(200), properties: z.record(z.string(), z.unknown()).optional() }).strict(),
    resource: z.object({ type: z.string().min(1).max(100), id: z.string().min(1).max(300), properties: z.record(z.string(), z.unknown()).optional() }).strict(),
    context: z
      .object({
        args: z.record(z.string(), z.unknown()).optional(),
        task: z.object({ purpose: z.string().max(4000).optional(), scope: z.array(z.string().max(200)).max(500).optional() }).strict().optional(),
        person: z
          .object({
            sub: z.string().max(255),
            iss: z.string().max(500),
            name: z.string().max(200).optional(),
            email: z.string().max(320).optional(),
            roles: z.array(z.string().max(50)).max(10).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export function policyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  /**
   * The call decision point for agents (the MCP and HTTP front doors run the same stages):
   * scope, then policy, then — when a policy asks — people.
   */
  app.post('/agent/v1/authorize', { preHandler: requireAgent(ctx) }, async (request) => {
    const cred = request.credential;
    if (!cred) throw new WardenError('CRED_MISSING');
    const call = parseInput(ToolCallSchema, request.body);
    const [agent, task] = await Promise.all([ctx.store.getAgent(cred.agentId), ctx.store.getTask(cred.taskId)]);
    if (!agent || !task) throw new WardenError('CRED_REVOKED');
    const authorized = await authorizeCall({ policy: ctx.policy, events: ctx.events, clock: ctx.clock, agent, task }, cred, call);
    if (authorized.decision.kind === 'approval') await ctx.approve(authorized, cred, call);
    return { decision: 'allow', policies: authorized.decision.policies, revision: authorized.decision.revision, argsDigest: authorized.argsDigest };
  });

  app.get('/v1/policy', { preHandler: requirePerson(ctx, READERS) }, async () => ({
    revision: ctx.policy.engine.revision,
    policies: [...ctx.policy.engine.policies.values()].map((p) => ({ id: p.id, file: p.file, line: p.line, effect: p.effect, approvals: p.approvals, annotations: p.annotations })),
    schema: ctx.policy.engine.schema,
  }));

  app.post('/v1/policy/reload', { preHandler: requirePerson(ctx, ADMINS) }, async (_request, reply) => {
    const result = await ctx.policy.reload();
    if (!result.ok) return reply.code(400).send({ error: { code: 'POLICY_INVALID', message: 'The policy set does not parse or validate', details: { problems: result.problems, running: result.revision } } });
    return result;
  });

  app.post('/access/v1/evaluation', { preHandler: requirePerson(ctx, ADMINS) }, async (request) => {
    const req = parseInput(AuthZenRequestSchema, request.body);
    const agent = await ctx.store.getAgent(req.subject.id);
    if (!agent) throw new WardenError('AGENT_NOT_FOUND');
    const now = ctx.clock.now();
    const decision =
      req.action.name === 'start_task'
        ? ctx.policy.engine.decideStartTask({
            agent,
            taskId: req.resource.id,
            purpose: req.context.task?.purpose ?? '',
            scope: req.context.task?.scope ?? [],
            lifetimeSec: 0,
            ticket: null,
            person: req.context.person ?? null,
            nowMs: now,
          })
        : ctx.policy.engine.decideCall({
            agent,
            task: { id: 'tsk_authzen', purpose: req.context.task?.purpose ?? '', scope: req.context.task?.scope ?? [], createdAt: now, ticket: null },
            person: req.context.person ?? null,
            tool: req.action.name,
            args: req.context.args ?? {},
            nowMs: now,
          });
    await ctx.events.record({
      type: 'policy.decide',
      outcome: decision.kind === 'allow' ? 'success' : decision.kind === 'failed' ? 'failure' : 'denied',
      actor: { kind: 'person', id: request.person!.id },
      subject: agent.id,
      data: { point: 'authzen', action: req.action.name, decision: decision.kind, policies: decision.policies, errors: decision.errors, revision: decision.revision },
    });
    // AuthZEN has a boolean answer: a call that needs people is not (yet) allowed.
    return {
      decision: decision.kind === 'allow',
      context: {
        warden: { decision: decision.kind, policies: decision.policies, approvals: decision.approvals, revision: decision.revision, ...(decision.reason ? { reason: decision.reason } : {}) },
      },
    };
  });
}
