import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { OidcIssuer } from '../../config/schema.js';
import type { OnBehalfOf } from '../../domain/index.js';
import { WardenError } from '../../errors/warden-error.js';
import type { PersonService } from '../../identity/person-service.js';
import type { Clock } from '../../util/clock.js';
import { parseCompactJws } from '../jws/compact.js';

/** A Warden person API key as an RFC 8693 subject token. */
export const API_KEY_TOKEN_TYPE = 'urn:warden:params:oauth:token-type:api-key';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
export const SUBJECT_TOKEN_TYPES = [API_KEY_TOKEN_TYPE, ID_TOKEN_TYPE] as const;

/**
 * Proves the person a task is for (RFC 8693 §2.1 `subject_token`): either a Warden person's
 * API key, or an ID token from an OIDC issuer listed in the config. Any failure is
 * SUBJECT_TOKEN_INVALID (RFC 8693 §2.2.2 `invalid_request`/`invalid_grant`).
 */
export class SubjectTokenVerifier {
  private readonly keySets = new Map<string, JWTVerifyGetKey>();

  constructor(
    private readonly persons: PersonService,
    private readonly issuers: readonly OidcIssuer[],
    private readonly clock: Clock,
    private readonly skewSec: number,
  ) {}

  async verify(type: string | undefined, token: string | undefined): Promise<OnBehalfOf> {
    if (!token || token.length > 16_384) throw new WardenError('SUBJECT_TOKEN_INVALID', { reason: 'missing' });
    if (type === API_KEY_TOKEN_TYPE) {
      try {
        const { person } = await this.persons.authenticate(token);
        return { sub: person.id, iss: 'warden', name: person.name, ...(person.email ? { email: person.email } : {}), roles: [...person.roles] };
      } catch (err) {
        if (err instanceof WardenError && err.code === 'AUTH_INVALID') throw new WardenError('SUBJECT_TOKEN_INVALID', { reason: 'api key' });
        throw err;
      }
    }
    if (type === ID_TOKEN_TYPE) return this.verifyIdToken(token);
    throw new WardenError('SUBJECT_TOKEN_INVALID', { reason: 'subject_token_type' });
  }

  private async verifyIdToken(token: string): Promise<OnBehalfOf> {
    if (typeof parseCompactJws(token, 16_384) === 'string') throw new WardenError('SUBJECT_TOKEN_INVALID', { reason: 'malformed' });
    let unverifiedIss: unknown;
    try {
      unverifiedIss = decodeJwt(token).iss;
    } catch {
      throw new WardenError('SUBJECT_TOKEN_INVALID', { reason: 'malformed' });
    }
    // The unverified `iss` only picks which trusted issuer's keys to try; jwtVerify checks it.
    const issuer = this.issuers.find((i) => i.issuer === unverifiedIss);
    if (!issuer) throw new WardenError('SUBJECT_TOKEN_INVALID', { reason: 'untrusted issuer' });
    try {
      const { payload } = await jwtVerify(token, await this.keySet(issuer), {
        issuer: issuer.issuer,
        audience: issuer.audience,
        algorithms: issuer.algorithms,
        clockTolerance: this.skewSec,
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      return {
        sub: String(payload.sub).slice(0, 255),
        iss: issuer.issuer,
        ...(typeof payload.name === 'string' ? { name: payload.name.slice(0, 200) } : {}),
        ...(typeof payload.email === 'string' ? { email: payload.email.slice(0, 320) } : {}),
      };
    } catch (err) {
      if (err instanceof WardenError) throw err;
      throw new WardenError('SUBJECT_TOKEN_INVALID', { reason: 'id token' });
    }
  }

  private async keySet(issuer: OidcIssuer): Promise<JWTVerifyGetKey> {
    const known = this.keySets.get(issuer.issuer);
    if (known) return known;
    let set: JWTVerifyGetKey;
    if (issuer.jwks) {
      set = createLocalJWKSet(issuer.jwks as never);
    } else {
      const uri = issuer.jwksUri ?? (await this.discoverJwksUri(issuer.issuer));
      set = createRemoteJWKSet(new URL(uri), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    }
    this.keySets.set(issuer.issuer, set);
    return set;
  }

  /** OpenID Connect Discovery 1.0 §4: the issuer's metadata names its `jwks_uri`. */
  private async discoverJwksUri(issuer: string): Promise<string> {
    try {
      const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
      const meta = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (res.ok && meta.issuer === issuer && typeof meta.jwks_uri === 'string') return meta.jwks_uri;
    } catch {
      // fall through: an issuer that cannot be discovered proves no one
    }
    throw new WardenError('SUBJECT_TOKEN_INVALID', { reason: 'issuer discovery failed' });
  }
}
