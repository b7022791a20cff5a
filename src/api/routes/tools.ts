import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { WardenError } from '../../errors/warden-error.js';
import { changedFields } from '../../mcp-gateway/catalog.js';
import { parseInput } from '../../util/parse-input.js';
import { ADMINS, READERS, requirePerson } from '../auth.js';
import type { ApiContext } from '../context.js';

const Params = z.object({ tool: z.string().min(3).max(200) }).strict();
const AcceptSchema = z.object({ digest: z.string().regex(/^[A-Za-z0-9_-]{43}$/) }).strict();

/**
 * `/v1/tools`: the upstream tools as pinned, whether each upstream still offers the pinned
 * definition, and the review of changes — see the pending definition, accept exactly it.
 */
export function toolRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const catalog = ctx.catalog;
  if (!catalog) return;
  app.get('/v1/tools', { preHandler: requirePerson(ctx, READERS) }, async () => {
    const offered = new Map(catalog.offered().map((t) => [t.qualified, t]));
    return {
      tools: catalog.pinsWithState().map(({ pin, listed }) => {
        const name = `${pin.server}.${pin.tool}`;
        const t = offered.get(name);
        return {
          name,
          server: pin.server,
          tool: pin.tool,
          status: pin.status,
          listed,
          offered: t !== undefined,
          digest: pin.digest,
          pendingDigest: pin.pendingDigest,
          firstSeenAt: pin.firstSeenAt,
          changedAt: pin.changedAt,
          acceptedAt: pin.acceptedAt,
          acceptedBy: pin.acceptedBy,
          ...(t ? { risk: t.risk, tags: t.tags, labels: t.labels } : {}),
        };
      }),
    };
  });

  app.get('/v1/tools/:tool', { preHandler: requirePerson(ctx, READERS) }, async (request) => {
    const { tool } = parseInput(Params, request.params);
    const found = catalog.pinsWithState().find(({ pin }) => `${pin.server}.${pin.tool}` === tool);
    if (!found) throw new WardenError('TOOL_NOT_FOUND', { tool });
    const { pin, listed } = found;
    return {
      tool: {
        ...pin,
        name: tool,
        listed,
        changed: pin.pendingDefinition ? changedFields(pin.definition, pin.pendingDefinition) : [],
      },
    };
  });

  app.post('/v1/tools/:tool/accept', { preHandler: requirePerson(ctx, ADMINS) }, async (request) => {
    const { tool } = parseInput(Params, request.params);
    const { digest } = parseInput(AcceptSchema, request.body ?? {});
    const pin = await catalog.accept(tool, digest, request.person!.id);
    return { tool: { ...pin, name: tool } };
  });
}
