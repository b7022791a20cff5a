import type { AccessTokenVerifier } from '../credentials/access-token/verify.js';
import type { DpopVerifier } from '../credentials/dpop/verify-proof.js';
import type { RevocationSet } from '../revocation/revocation-set.js';
import { authenticate, type RequestCredentials } from './stages/authenticate.js';
import { checkRevoked } from './stages/check-revoked.js';
import type { VerifiedCredential } from './verified-credential.js';

/**
 * The first stages of the one request pipeline (DESIGN.md), shared by every front door.
 * Authentication comes first because nothing else may be looked up for an unproven caller;
 * revocation second because it needs the token's jti, task, agent and key. Later issues add
 * limits, authorize, approve, record, inject, forward and inspect after these.
 */
export class RequestVerifier {
  constructor(
    private readonly tokens: AccessTokenVerifier,
    private readonly dpop: DpopVerifier,
    private readonly revocations: RevocationSet,
  ) {}

  async verify(req: RequestCredentials): Promise<VerifiedCredential> {
    const cred = await authenticate(req, this.tokens, this.dpop);
    checkRevoked(cred, this.revocations);
    return cred;
  }
}
