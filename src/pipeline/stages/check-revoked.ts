import { WardenError } from '../../errors/warden-error.js';
import type { RevocationSet } from '../../revocation/revocation-set.js';
import type { VerifiedCredential } from '../verified-credential.js';

/**
 * Stage 2: the token, its task, its agent and its key must none be revoked. Checked against
 * the in-memory set on every request, so a revocation applies to the very next one.
 */
export function checkRevoked(cred: VerifiedCredential, revocations: RevocationSet): void {
  const hit = revocations.check({ jti: cred.jti, task: cred.taskId, agent: cred.agentId, jkt: cred.jkt });
  if (hit) throw new WardenError('CRED_REVOKED', { revoked: hit });
}
