import type { FastifyInstance } from 'fastify';
import { WardenError } from '../../errors/warden-error.js';
import type { ApiContext } from '../context.js';

/**
 * The agents' front doors: `/mcp` (MCP Streamable HTTP). Each HTTP request is authenticated
 * (DPoP-bound token and a proof for this method and URL) before anything else is looked at.
 */
export function gatewayRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const gateway = ctx.gateway;
  if (!gateway) return;
  const mcpUrl = new URL(`${ctx.urls.base}/mcp`);
  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: '/mcp',
    // Tool arguments are never stored (only their digest), so the NUL check does not apply.
    config: { allowNul: true },
    handler: async (request, reply) => {
      const cred = await ctx.requests.verify({
        authorization: request.headers.authorization,
        dpop: request.headers.dpop,
        method: request.method,
        url: mcpUrl,
      });
      const session = await gateway.session(cred, request.raw, request.body);
      reply.hijack();
      try {
        await gateway.dispatch(session, cred, request.raw, reply.raw, request.body);
      } catch (err) {
        request.log.error({ err, code: 'INTERNAL' }, 'MCP transport failed');
        if (!reply.raw.headersSent) {
          const we = new WardenError('INTERNAL');
          reply.raw.writeHead(we.spec.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: we.code, message: we.spec.message } }));
        } else {
          reply.raw.end();
        }
      }
    },
  });
}
