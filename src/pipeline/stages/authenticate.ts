import type { AccessTokenVerifier } from '../../credentials/access-token/verify.js';
import type { DpopVerifier } from '../../credentials/dpop/verify-proof.js';
import { WardenError } from '../../errors/warden-error.js';
import { markVerified, type VerifiedCredential } from '../verified-credential.js';

export interface RequestCredentials {
  readonly authorization: string | undefined;
  readonly dpop: string | string[] | undefined;
  readonly method: string;
  readonly url: URL;
}

/**
 * Stage 1: a DPoP-bound access token plus a fresh proof of possession of its key
 * (RFC 9449 §7). The token alone is worth nothing: the proof must be signed by the key whose
 * thumbprint the token carries in `cnf.jkt`, for this method and URL, and only once.
 */
export async function authenticate(
  req: RequestCredentials,
  tokens: AccessTokenVerifier,
  dpop: DpopVerifier,
): Promise<VerifiedCredential> {
  const header = req.authorization;
  if (!header) throw new WardenError('CRED_MISSING');
  const space = header.indexOf(' ');
  const scheme = space > 0 ? header.slice(0, space).toLowerCase() : '';
  const token = space > 0 ? header.slice(space + 1) : '';
  if (scheme === 'bearer') throw new WardenError('CRED_NOT_DPOP_BOUND', { reason: 'use the DPoP scheme' });
  if (scheme !== 'dpop' || token.length === 0) throw new WardenError('CRED_MALFORMED', { reason: 'authorization scheme' });

  const claims = await tokens.verify(token);
  const proof = await dpop.verify({ proof: req.dpop, method: req.method, url: req.url, accessToken: token });
  if (proof.key.jkt !== claims.cnf.jkt) throw new WardenError('DPOP_KEY_MISMATCH');
  return markVerified({
    agentId: claims.sub,
    taskId: claims.task,
    jti: claims.jti,
    scope: claims.scope.split(' '),
    jkt: claims.cnf.jkt,
    exp: claims.exp,
    onBehalfOf: claims.act ?? null,
  });
}
