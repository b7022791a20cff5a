import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SecretNameSchema } from '../../domain/index.js';
import { OverlapSecSchema } from '../../secrets/secret-service.js';
import { parseInput } from '../../util/parse-input.js';
import { ADMINS, actorOf, requirePerson } from '../auth.js';
import type { ApiContext } from '../context.js';

const Params = z.object({ name: SecretNameSchema }).strict();
// The value is checked by the service (size, Unicode); here only that it is a string.
const SetBodySchema = z.object({ value: z.string() }).strict();
const RotateBodySchema = z.object({ value: z.string(), overlapSec: OverlapSecSchema.default(3600) }).strict();

/**
 * `/v1/secrets`: the upstream credentials Warden injects. Admins only, reads included: even the
 * list tells which upstreams Warden holds keys for. Values go in and never come out: no
 * response carries one, and the service offers no way to read one back.
 */
export function secretRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const admin = { preHandler: requirePerson(ctx, ADMINS) };

  app.get('/v1/secrets', admin, async () => ({ secrets: await ctx.secrets.list() }));

  app.put('/v1/secrets/:name', admin, async (request, reply) => {
    const { name } = parseInput(Params, request.params);
    const { value } = parseInput(SetBodySchema, request.body);
    const change = await ctx.secrets.set(name, value, actorOf(request));
    return reply.code(change.version === 1 ? 201 : 200).send({ secret: change });
  });

  app.post('/v1/secrets/:name/rotate', admin, async (request) => {
    const { name } = parseInput(Params, request.params);
    const { value, overlapSec } = parseInput(RotateBodySchema, request.body);
    return { secret: await ctx.secrets.rotate(name, value, { overlapSec }, actorOf(request)) };
  });
}
