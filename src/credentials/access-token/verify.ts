import { WardenError } from '../../errors/warden-error.js';
import type { Clock } from '../../util/clock.js';
import { parseCompactJws, parseJsonObject } from '../jws/compact.js';
import { verifyJwsSignature } from '../jws/verify-signature.js';
import type { SigningKeyRing } from '../keys/signing-keys.js';
import { AccessTokenClaimsSchema, type AccessTokenClaims } from './claims.js';

export const MAX_TOKEN_LENGTH = 8192;

/**
 * Verifies Warden access tokens (RFC 9068 §4): canonical compact form, `typ`, `alg` (EdDSA
 * only, whatever the header asks: RFC 8725 §3.1), `kid` of a published key, signature, claims
 * schema, `iss`, `aud`, time claims with a small skew allowance.
 *
 * A token that verified is remembered until it expires, so the signature check runs once per
 * token, not once per request; expiry is re-checked on every use.
 */
export class AccessTokenVerifier {
  private readonly verified = new Map<string, AccessTokenClaims>();
  private lastRefresh = 0;

  constructor(
    private readonly keys: SigningKeyRing,
    private readonly clock: Clock,
    private readonly opts: { issuer: string; audience: string; skewSec: number; cacheSize?: number },
  ) {}

  async verify(token: string): Promise<AccessTokenClaims> {
    const nowSec = this.clock.now() / 1000;
    const hit = this.verified.get(token);
    if (hit) {
      this.checkTimes(hit, nowSec);
      return hit;
    }
    const jws = parseCompactJws(token, MAX_TOKEN_LENGTH);
    if (typeof jws === 'string') throw new WardenError('CRED_MALFORMED', { reason: jws });
    const { header } = jws;
    if (header.alg !== 'EdDSA') throw new WardenError('CRED_UNSUPPORTED_ALG');
    if (typeof header.typ !== 'string' || !['at+jwt', 'application/at+jwt'].includes(header.typ.toLowerCase())) {
      throw new WardenError('CRED_INVALID', { reason: 'typ' });
    }
    if ('crit' in header || 'b64' in header) throw new WardenError('CRED_INVALID', { reason: 'crit' });
    if (typeof header.kid !== 'string') throw new WardenError('CRED_INVALID', { reason: 'kid' });
    const key = await this.keyFor(header.kid);
    if (!key || !verifyJwsSignature('EdDSA', key, jws.signingInput, jws.signature)) {
      throw new WardenError('CRED_INVALID', { reason: 'signature' });
    }
    const payload = parseJsonObject(jws.payload);
    const parsed = AccessTokenClaimsSchema.safeParse(payload);
    if (!parsed.success) throw new WardenError('CRED_INVALID', { reason: 'claims' });
    const claims = parsed.data;
    if (claims.iss !== this.opts.issuer) throw new WardenError('CRED_WRONG_ISSUER');
    if (claims.aud !== this.opts.audience) throw new WardenError('CRED_WRONG_AUDIENCE');
    this.checkTimes(claims, nowSec);
    this.remember(token, claims);
    return claims;
  }

  private checkTimes(c: AccessTokenClaims, nowSec: number): void {
    const skew = this.opts.skewSec;
    if (c.exp <= nowSec - skew) throw new WardenError('CRED_EXPIRED');
    if (c.iat > nowSec + skew || (c.nbf !== undefined && c.nbf > nowSec + skew)) throw new WardenError('CRED_NOT_YET_VALID');
  }

  /** A kid unknown here may come from a key another replica just rotated to: look once a second. */
  private async keyFor(kid: string) {
    let key = this.keys.verificationKey(kid);
    if (!key && !this.keys.hasKid(kid) && this.clock.now() - this.lastRefresh > 1000) {
      this.lastRefresh = this.clock.now();
      await this.keys.refresh();
      key = this.keys.verificationKey(kid);
    }
    return key;
  }

  private remember(token: string, claims: AccessTokenClaims): void {
    // Tokens are remembered in the order they were first seen, which is close to the order they
    // expire in: expired ones leave from the front as new ones come, not only at the bound.
    const nowSec = this.clock.now() / 1000;
    for (const [t, c] of this.verified) {
      if (c.exp > nowSec) break;
      this.verified.delete(t);
    }
    if (this.verified.size >= (this.opts.cacheSize ?? 50_000)) {
      for (const [t, c] of this.verified) if (c.exp <= nowSec) this.verified.delete(t);
      if (this.verified.size >= (this.opts.cacheSize ?? 50_000)) this.verified.clear();
    }
    this.verified.set(token, claims);
  }
}
