import type { FastifyReply, FastifyRequest } from 'fastify';
import { ACCEPTED_ALGS } from '../credentials/jws/verify-signature.js';
import { WardenError, toWardenError } from '../errors/warden-error.js';

/** Fastify's own errors for bad input, mapped to ours by their stable codes. */
const FASTIFY_CODES: Record<string, WardenError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_INPUT',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_INPUT',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_INPUT',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_BAD_URL: 'INVALID_INPUT',
};

/** Any error as a WardenError: ours as they are, Fastify's by code, the rest INTERNAL. */
export function classify(err: unknown): WardenError {
  if (err instanceof WardenError) return err;
  const e = err as { code?: unknown; statusCode?: unknown; name?: unknown };
  if (typeof e?.code === 'string' && FASTIFY_CODES[e.code]) return new WardenError(FASTIFY_CODES[e.code]!, undefined, { cause: err });
  // A JSON body that does not parse (secure-json-parse throws SyntaxError with status 400).
  if (e?.name === 'SyntaxError' && e.statusCode === 400) return new WardenError('INVALID_INPUT', { reason: 'body is not JSON' }, { cause: err });
  if (e?.statusCode === 413) return new WardenError('PAYLOAD_TOO_LARGE', undefined, { cause: err });
  if (e?.statusCode === 415) return new WardenError('UNSUPPORTED_MEDIA_TYPE', undefined, { cause: err });
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new WardenError('INVALID_INPUT', undefined, { cause: err });
  }
  return toWardenError(err);
}

const isOAuthEndpoint = (url: string): boolean => url.split('?')[0] === '/oauth/token';
const isDpopResource = (url: string): boolean => url.startsWith('/agent/') || url === '/mcp' || url.startsWith('/mcp?') || url.startsWith('/proxy/');

/**
 * The one place errors become responses. The body carries the stable code and the registry's
 * fixed message, never the thrown error's own text; an unexpected error is logged (with its
 * cause) and answered as INTERNAL.
 */
export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const we = classify(err);
  if (we.code === 'INTERNAL' || we.code === 'STORE_UNAVAILABLE') {
    request.log.error({ err: we.cause ?? we, code: we.code }, 'request failed');
  }
  const { status, oauth, message } = we.spec;
  if (isOAuthEndpoint(request.url)) {
    // RFC 6749 §5.2 error response; the Warden code rides along for people and tests.
    return reply
      .code(status)
      .header('cache-control', 'no-store')
      .header('pragma', 'no-cache')
      .send({ error: oauth ?? 'invalid_request', error_description: message, warden_code: we.code, ...(we.details ? { details: we.details } : {}) });
  }
  if (status === 401 && isDpopResource(request.url)) {
    // RFC 9449 §7.1 / RFC 6750 §3: tell the client which scheme and algorithms are expected.
    reply.header('www-authenticate', `DPoP error="${oauth ?? 'invalid_token'}", algs="${ACCEPTED_ALGS.join(' ')}"`);
  } else if (status === 401) {
    reply.header('www-authenticate', 'Bearer realm="warden"');
  }
  // RFC 9110 §15.5.6: a 405 names the methods that are allowed.
  if (status === 405 && Array.isArray(we.details?.allow)) reply.header('allow', (we.details.allow as string[]).join(', '));
  // A body refused for its size may still be arriving: close rather than read the rest.
  if (status === 413) reply.header('connection', 'close');
  return reply.code(status).send({ error: { code: we.code, message, ...(we.details ? { details: we.details } : {}) } });
}
