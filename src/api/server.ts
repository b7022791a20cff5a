import type { Server } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { WardenError } from '../errors/warden-error.js';
import type { ApiContext } from './context.js';
import { sendError } from './errors.js';
import { adminRoutes } from './routes/admin.js';
import { approvalRoutes } from './routes/approvals.js';
import { gatewayRoutes } from './routes/gateway.js';
import { toolRoutes } from './routes/tools.js';
import { upstreamRoutes } from './routes/upstreams.js';
import { proxyRoutes } from './routes/proxy.js';
import { auditRoutes } from './routes/audit.js';
import { agentRoutes } from './routes/agents.js';
import { oauthRoutes } from './routes/oauth.js';
import { policyRoutes } from './routes/policy.js';
import { secretRoutes } from './routes/secrets.js';
import { taskRoutes } from './routes/tasks.js';
import { wellKnownRoutes } from './routes/well-known.js';

function containsNul(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (value instanceof URLSearchParams) return value.toString().includes('%00');
  return typeof value === 'string' ? value.includes('\0') : JSON.stringify(value).includes('\\u0000');
}

/**
 * Builds the HTTP API on an already listening server (the port must be known before the
 * routes exist: issuer, audience and DPoP `htu` derive from the public URL).
 */
export async function buildApi(ctx: ApiContext, server: Server, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    serverFactory: (handler) => {
      server.on('request', handler);
      return server;
    },
    bodyLimit: ctx.config.server.bodyLimit,
    // Request ids are ours; a client-chosen one must not end up in our logs as if trusted.
    requestIdHeader: false,
    // One concise line per request (onResponse below) instead of Fastify's two verbose ones.
    logController: new LogController({ disableRequestLogging: true }),
    // Prototype-poisoning payloads are refused, not silently stripped.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
  });
  app.decorateRequest('person', null);
  app.decorateRequest('credential', null);

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, new URLSearchParams(body as string));
  });

  // NUL never belongs in Warden's text, and PostgreSQL cannot store it: refuse it at the edge
  // rather than let it surface as a store failure.
  app.addHook('preHandler', async (request) => {
    if ((request.routeOptions.config as { allowNul?: boolean }).allowNul) return;
    if (containsNul(request.body) || containsNul(request.query)) throw new WardenError('INVALID_INPUT', { reason: 'NUL character' });
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, path: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) => sendError(new WardenError('NOT_FOUND'), request, reply));

  wellKnownRoutes(app, ctx);
  oauthRoutes(app, ctx);
  agentRoutes(app, ctx);
  taskRoutes(app, ctx);
  adminRoutes(app, ctx);
  policyRoutes(app, ctx);
  approvalRoutes(app, ctx);
  gatewayRoutes(app, ctx);
  toolRoutes(app, ctx);
  upstreamRoutes(app, ctx);
  secretRoutes(app, ctx);
  proxyRoutes(app, ctx);
  auditRoutes(app, ctx);
  await app.ready();
  return app;
}
