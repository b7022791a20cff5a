import type { FastifyInstance } from 'fastify';
import { WardenError } from '../../errors/warden-error.js';
import type { ApiContext } from '../context.js';

export function oauthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/oauth/token', async (request, reply) => {
    // RFC 6749 §3.2: the token endpoint takes application/x-www-form-urlencoded only.
    if (!(request.body instanceof URLSearchParams)) throw new WardenError('UNSUPPORTED_MEDIA_TYPE');
    const response = await ctx.tokenEndpoint.handle(request.body, request.headers.dpop);
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return response;
  });
}
