import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor, Person, Role } from '../domain/index.js';
import { WardenError } from '../errors/warden-error.js';
import { hasRole } from '../identity/person-service.js';
import type { VerifiedCredential } from '../pipeline/verified-credential.js';
import type { ApiContext } from './context.js';

declare module 'fastify' {
  interface FastifyRequest {
    person: Person | null;
    credential: VerifiedCredential | null;
  }
}

/** Reads roles: who may look. Mutations need `admin`. */
export const READERS: readonly Role[] = ['admin', 'auditor', 'viewer', 'approver'];
export const ADMINS: readonly Role[] = ['admin'];

/** A preHandler for the admin API: a person's API key as `Authorization: Bearer wdn_…`. */
export function requirePerson(ctx: ApiContext, roles: readonly Role[]) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    if (!header) throw new WardenError('AUTH_REQUIRED');
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    if (!match) throw new WardenError('AUTH_INVALID');
    const { person } = await ctx.persons.authenticate(match[1]!);
    if (!hasRole(person, roles)) throw new WardenError('AUTH_FORBIDDEN', { needs: [...roles] });
    request.person = person;
  };
}

/** A preHandler for agent-facing routes: DPoP-bound token, proof and revocation. */
export function requireAgent(ctx: ApiContext) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const path = new URL(request.url, 'http://placeholder').pathname;
    request.credential = await ctx.requests.verify({
      authorization: request.headers.authorization,
      dpop: request.headers.dpop,
      method: request.method,
      url: new URL(ctx.urls.base + path),
    });
  };
}

export function actorOf(request: FastifyRequest): Actor {
  if (!request.person) throw new TypeError('actorOf() needs requirePerson() first');
  return { kind: 'person', id: request.person.id };
}
