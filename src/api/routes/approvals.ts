import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApprovalStatusSchema, TaskIdSchema } from '../../domain/index.js';
import { parseInput } from '../../util/parse-input.js';
import { READERS, requirePerson } from '../auth.js';
import type { ApiContext } from '../context.js';

const ListQuerySchema = z
  .object({
    status: ApprovalStatusSchema.optional(),
    task: TaskIdSchema.optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();
const Params = z.object({ approval: z.string().max(100) });
const DecisionSchema = z.object({ comment: z.string().trim().min(1).max(1000).optional() }).strict();

/**
 * `/v1/approvals`: people see held calls (any role) and decide them (the `approver` role;
 * who may decide which approval — not the requester, not twice — is the service's rule).
 */
export function approvalRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const read = { preHandler: requirePerson(ctx, READERS) };
  const approver = { preHandler: requirePerson(ctx, ['approver']) };

  app.get('/v1/approvals', read, async (request) => {
    const q = parseInput(ListQuerySchema, request.query);
    return {
      approvals: await ctx.approvals.list({ ...(q.status ? { status: q.status } : {}), ...(q.task ? { taskId: q.task } : {}), limit: q.limit ?? 100 }),
    };
  });

  app.get('/v1/approvals/:approval', read, async (request) => ({ approval: await ctx.approvals.get(parseInput(Params, request.params).approval) }));

  for (const decision of ['approve', 'deny'] as const) {
    app.post(`/v1/approvals/:approval/${decision}`, approver, async (request) => {
      const { approval } = parseInput(Params, request.params);
      const { comment } = parseInput(DecisionSchema, request.body ?? {});
      return { approval: await ctx.approvals.decide(approval, request.person!, decision, comment) };
    });
  }
}
