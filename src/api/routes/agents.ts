import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AgentStatusSchema } from '../../domain/index.js';
import { parseInput } from '../../util/parse-input.js';
import { ADMINS, READERS, actorOf, requirePerson } from '../auth.js';
import type { ApiContext } from '../context.js';

const ReasonSchema = z.object({ reason: z.string().trim().min(1).max(200).optional() }).strict();
const KeySchema = z.object({ jwk: z.record(z.string(), z.unknown()) }).strict();
const ListQuerySchema = z.object({ status: AgentStatusSchema.optional() }).strict();
const Params = z.object({ agent: z.string().max(100) });
const KeyParams = Params.extend({ jkt: z.string().max(100) });

export function agentRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const read = { preHandler: requirePerson(ctx, READERS) };
  const admin = { preHandler: requirePerson(ctx, ADMINS) };

  app.post('/v1/agents', admin, async (request, reply) => {
    const view = await ctx.agents.register(request.body, actorOf(request));
    return reply.code(201).send(view);
  });

  app.get('/v1/agents', read, async (request) => {
    const q = parseInput(ListQuerySchema, request.query);
    return { agents: await ctx.agents.list(q.status) };
  });

  app.get('/v1/agents/:agent', read, async (request) => ctx.agents.get(parseInput(Params, request.params).agent));

  app.post('/v1/agents/:agent/suspend', admin, async (request) => {
    const { reason } = parseInput(ReasonSchema, request.body ?? {});
    return { agent: await ctx.agents.suspend(parseInput(Params, request.params).agent, reason ?? 'suspended by admin', actorOf(request)) };
  });

  app.post('/v1/agents/:agent/resume', admin, async (request) => ({
    agent: await ctx.agents.resume(parseInput(Params, request.params).agent, actorOf(request)),
  }));

  app.post('/v1/agents/:agent/retire', admin, async (request) => {
    const { reason } = parseInput(ReasonSchema, request.body ?? {});
    return { agent: await ctx.agents.retire(parseInput(Params, request.params).agent, reason ?? 'retired by admin', actorOf(request)) };
  });

  app.post('/v1/agents/:agent/keys', admin, async (request, reply) => {
    const { jwk } = parseInput(KeySchema, request.body);
    const key = await ctx.agents.addKey(parseInput(Params, request.params).agent, jwk, actorOf(request));
    return reply.code(201).send({ key });
  });

  app.post('/v1/agents/:agent/keys/:jkt/retire', admin, async (request) => {
    const p = parseInput(KeyParams, request.params);
    return { key: await ctx.agents.retireKey(p.agent, p.jkt, actorOf(request)) };
  });
}
