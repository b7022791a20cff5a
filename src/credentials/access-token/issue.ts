import { SignJWT } from 'jose';
import type { Agent, Task } from '../../domain/index.js';
import type { SigningKeyRing } from '../keys/signing-keys.js';
import type { AccessTokenClaims } from './claims.js';

export interface IssuedToken {
  readonly token: string;
  readonly claims: AccessTokenClaims;
  /** Seconds until expiry, for the token response. */
  readonly expiresIn: number;
}

/**
 * Signs an access token for one task: EdDSA, `typ: at+jwt` (RFC 9068 §2.1), bound to the
 * agent's DPoP key by `cnf.jkt` (RFC 9449 §6). It never outlives its task.
 */
export async function issueAccessToken(opts: {
  keys: SigningKeyRing;
  issuer: string;
  audience: string;
  agent: Agent;
  task: Task;
  jkt: string;
  jti: string;
  nowMs: number;
  ttlSec: number;
}): Promise<IssuedToken> {
  const iat = Math.floor(opts.nowMs / 1000);
  const exp = Math.min(iat + opts.ttlSec, Math.floor(opts.task.expiresAt / 1000));
  const claims: AccessTokenClaims = {
    iss: opts.issuer,
    sub: opts.agent.id,
    aud: opts.audience,
    exp,
    iat,
    jti: opts.jti,
    client_id: opts.agent.id,
    task: opts.task.id,
    scope: opts.task.scope.join(' '),
    cnf: { jkt: opts.jkt },
    ...(opts.task.onBehalfOf ? { act: { sub: opts.task.onBehalfOf.sub, iss: opts.task.onBehalfOf.iss } } : {}),
  };
  const signer = opts.keys.signer();
  const token = await new SignJWT(claims as unknown as Record<string, unknown>)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: signer.kid })
    .sign(signer.privateKey);
  return { token, claims, expiresIn: exp - iat };
}
