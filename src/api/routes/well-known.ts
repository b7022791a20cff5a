import type { FastifyInstance } from 'fastify';
import { ACCEPTED_ALGS } from '../../credentials/jws/verify-signature.js';
import { SUBJECT_TOKEN_TYPES } from '../../credentials/subject-token/verify.js';
import { GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE } from '../../credentials/token-endpoint/token-endpoint.js';
import type { ApiContext } from '../context.js';

export function wellKnownRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  // RFC 7517 §5: keys that can still verify a live token; cacheable for a short while.
  app.get('/.well-known/jwks.json', async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=60');
    return ctx.keys.jwks();
  });

  // RFC 8414 §2 authorization server metadata.
  app.get('/.well-known/oauth-authorization-server', async () => ({
    issuer: ctx.urls.issuer,
    token_endpoint: ctx.urls.tokenEndpoint,
    jwks_uri: `${ctx.urls.base}/.well-known/jwks.json`,
    grant_types_supported: [GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...ACCEPTED_ALGS],
    dpop_signing_alg_values_supported: [...ACCEPTED_ALGS],
    response_types_supported: [],
    subject_token_types_supported: [...SUBJECT_TOKEN_TYPES],
    access_token_lifetime: ctx.config.tokens.accessTokenTtlSec,
    warden_task_parameters: ['purpose', 'scope', 'task_lifetime', 'ticket', 'task'],
  }));
}
