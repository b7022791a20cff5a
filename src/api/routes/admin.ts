import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CreatePersonSchema } from '../../identity/person-service.js';
import { parseInput } from '../../util/parse-input.js';
import { ADMINS, READERS, actorOf, requirePerson } from '../auth.js';
import type { ApiContext } from '../context.js';

const EventsQuerySchema = z
  .object({
    after: z.coerce.number().int().min(-1).optional(),
    type: z.string().max(100).optional(),
    subject: z.string().max(255).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).optional(),
  })
  .strict();

export function adminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const read = { preHandler: requirePerson(ctx, READERS) };
  const admin = { preHandler: requirePerson(ctx, ADMINS) };

  app.get('/v1/persons', read, async () => ({ persons: await ctx.persons.list() }));

  // The new person's API key is in this response and nowhere else, ever.
  app.post('/v1/persons', admin, async (request, reply) => {
    const created = await ctx.persons.create(parseInput(CreatePersonSchema, request.body), request.person!);
    reply.header('cache-control', 'no-store');
    return reply.code(201).send(created);
  });

  app.get('/v1/whoami', read, async (request) => ({ person: request.person }));

  app.get('/v1/signing-keys', read, async () => ({ keys: await ctx.store.listSigningKeys(), active: ctx.keys.signer().kid }));

  // The old key keeps verifying until every token it signed has expired.
  app.post('/v1/signing-keys/rotate', admin, async (request) => {
    const previous = ctx.keys.signer().kid;
    const overlapMs = (ctx.config.tokens.accessTokenTtlSec + ctx.config.tokens.clockSkewSec) * 1000;
    const kid = await ctx.keys.rotate(overlapMs);
    await ctx.events.record({ type: 'signing_key.rotate', outcome: 'success', actor: actorOf(request), subject: kid, data: { previous } });
    return { active: kid, previous, previousVerifiesUntil: ctx.clock.now() + overlapMs };
  });

  app.get('/v1/events', read, async (request) => {
    const q = parseInput(EventsQuerySchema, request.query);
    return {
      events: await ctx.store.listEvents({
        ...(q.after !== undefined ? { afterSeq: q.after } : {}),
        ...(q.type ? { type: q.type } : {}),
        ...(q.subject ? { subject: q.subject } : {}),
        limit: q.limit ?? 100,
      }),
    };
  });
}
