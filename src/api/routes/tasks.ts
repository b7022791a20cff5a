import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AgentIdSchema, TaskStatusSchema } from '../../domain/index.js';
import { WardenError } from '../../errors/warden-error.js';
import { parseInput } from '../../util/parse-input.js';
import { ADMINS, READERS, actorOf, requireAgent, requirePerson } from '../auth.js';
import type { ApiContext } from '../context.js';

const ListQuerySchema = z
  .object({
    agent: AgentIdSchema.optional(),
    status: TaskStatusSchema.optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();
const Params = z.object({ task: z.string().max(100) });
const ReasonSchema = z.object({ reason: z.string().trim().min(1).max(200).optional() }).strict();
const RevokeTokenSchema = z
  .object({
    jti: z.string().regex(/^tok_[0-9a-z]{20,40}$/),
    reason: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

export function taskRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const read = { preHandler: requirePerson(ctx, READERS) };
  const admin = { preHandler: requirePerson(ctx, ADMINS) };

  app.get('/v1/tasks', read, async (request) => {
    const q = parseInput(ListQuerySchema, request.query);
    return { tasks: await ctx.tasks.list({ ...(q.agent ? { agentId: q.agent } : {}), ...(q.status ? { status: q.status } : {}), limit: q.limit ?? 100 }) };
  });

  app.get('/v1/tasks/:task', read, async (request) => ({ task: await ctx.tasks.get(parseInput(Params, request.params).task) }));

  app.post('/v1/tasks/:task/revoke', admin, async (request) => {
    const { reason } = parseInput(ReasonSchema, request.body ?? {});
    const task = await ctx.tasks.revoke(parseInput(Params, request.params).task, reason ?? 'revoked by admin', actorOf(request));
    await ctx.gateway?.closeTask(task.id);
    return { task };
  });

  // One token. Its lifetime is bounded by the configured maximum, so the revocation can be
  // forgotten once no token issued before it can still be valid.
  app.post('/v1/tokens/revoke', admin, async (request) => {
    const { jti, reason } = parseInput(RevokeTokenSchema, request.body);
    const now = ctx.clock.now();
    const expiresAt = now + (ctx.config.tokens.accessTokenTtlSec + ctx.config.tokens.clockSkewSec) * 1000;
    await ctx.revocations.revoke({ kind: 'token', value: jti, reason: reason ?? 'revoked by admin', createdAt: now, expiresAt, liftedAt: null });
    await ctx.events.record({ type: 'credential.revoke', outcome: 'success', actor: actorOf(request), subject: jti, data: { reason: reason ?? null } });
    return { revoked: jti };
  });

  // Agent-facing: who am I, under which task (also the simplest check that a token works).
  app.get('/agent/v1/whoami', { preHandler: requireAgent(ctx) }, async (request) => {
    const cred = request.credential;
    if (!cred) throw new WardenError('CRED_MISSING');
    return { agent: cred.agentId, task: cred.taskId, scope: cred.scope, exp: cred.exp, onBehalfOf: cred.onBehalfOf };
  });

  // Agent-facing: the agent is done; the task and all its tokens end now.
  app.post('/agent/v1/task/complete', { preHandler: requireAgent(ctx) }, async (request) => {
    const cred = request.credential;
    if (!cred) throw new WardenError('CRED_MISSING');
    const task = await ctx.tasks.complete(cred.taskId, cred.agentId);
    // Its MCP sessions can serve nothing more: free them now (other replicas sweep them).
    await ctx.gateway?.closeTask(task.id);
    return { task: task.id, status: task.status };
  });
}
