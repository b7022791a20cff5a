import { createHash } from 'node:crypto';
import { WardenError } from '../../errors/warden-error.js';
import type { Clock } from '../../util/clock.js';
import { parseCompactJws, parseJsonObject } from '../jws/compact.js';
import { isAcceptedAlg, verifyJwsSignature, verifyJwsSignatureAsync } from '../jws/verify-signature.js';
import type { PublicKeyCache, ValidPublicKey } from '../keys/public-jwk.js';
import type { ReplayCache } from './replay-cache.js';

export const MAX_PROOF_LENGTH = 4096;

export interface DpopCheck {
  /** The `DPoP` header value(s) as received. */
  readonly proof: string | string[] | undefined;
  readonly method: string;
  /** The request URL as the agent addressed it (Warden's public URL + path). */
  readonly url: URL;
  /** The access token the proof must be bound to (`ath`); absent at the token endpoint. */
  readonly accessToken?: string;
}

export interface VerifiedProof {
  readonly key: ValidPublicKey;
  readonly jti: string;
}

/** Normalises an `htu` for comparison: scheme, host and path only (RFC 9449 §4.3 step 9). */
function htuOf(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/**
 * Checks a DPoP proof JWT per RFC 9449 §4.3, in order, each failure with its own code.
 * The replay check is last so that only proofs that verified in full are remembered.
 */
export class DpopVerifier {
  constructor(
    private readonly keys: PublicKeyCache,
    private readonly replay: ReplayCache,
    private readonly clock: Clock,
    private readonly opts: {
      maxAgeSec: number;
      skewSec: number;
      /**
       * Whether this proof's signature is checked on libuv's thread pool (true) or on the event
       * loop (false), asked per proof. Default: always the pool. Warden asks whether other calls
       * are in flight: the pool pays off only when the event loop has something else to do
       * meanwhile; alone, the hand-over and the wake-up for the answer cost more than the check.
       * Both ways run the same rules and give the same answer.
       */
      offload?: () => boolean;
    },
  ) {}

  async verify(check: DpopCheck): Promise<VerifiedProof> {
    // §4.3 step 1: exactly one DPoP header. Node joins repeated headers with ", ", and a
    // compact JWS has no comma, so a repeat cannot pass as one proof.
    if (check.proof === undefined || check.proof === '') throw new WardenError('DPOP_MISSING');
    if (Array.isArray(check.proof)) throw new WardenError('DPOP_INVALID', { reason: 'more than one DPoP header' });
    const jws = parseCompactJws(check.proof, MAX_PROOF_LENGTH);
    if (typeof jws === 'string') throw new WardenError('DPOP_INVALID', { reason: jws });
    const { header } = jws;
    if (header.typ !== 'dpop+jwt') throw new WardenError('DPOP_INVALID', { reason: 'typ' });
    if (!isAcceptedAlg(header.alg)) throw new WardenError('DPOP_UNSUPPORTED_ALG');
    if ('crit' in header || 'b64' in header) throw new WardenError('DPOP_INVALID', { reason: 'crit' });
    const key = await this.keys.get(header.jwk);
    if (typeof key === 'string') throw new WardenError('DPOP_INVALID', { reason: `jwk: ${key}` });
    if (key.alg !== header.alg) throw new WardenError('DPOP_INVALID', { reason: 'alg does not fit the key' });
    const signed = this.opts.offload?.() === false
      ? verifyJwsSignature(key.alg, key.key, jws.signingInput, jws.signature)
      : await verifyJwsSignatureAsync(key.alg, key.key, jws.signingInput, jws.signature);
    if (!signed) {
      throw new WardenError('DPOP_INVALID', { reason: 'signature' });
    }
    const claims = parseJsonObject(jws.payload);
    if (!claims) throw new WardenError('DPOP_INVALID', { reason: 'payload' });
    const { jti, htm, htu, iat, ath } = claims;
    if (typeof jti !== 'string' || jti.length < 8 || jti.length > 256) throw new WardenError('DPOP_INVALID', { reason: 'jti' });
    if (typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number' || !Number.isFinite(iat)) {
      throw new WardenError('DPOP_INVALID', { reason: 'claims' });
    }
    if (htm !== check.method) throw new WardenError('DPOP_METHOD_MISMATCH');
    let proofUrl: URL;
    try {
      proofUrl = new URL(htu);
    } catch {
      throw new WardenError('DPOP_URL_MISMATCH');
    }
    if (htuOf(proofUrl) !== htuOf(check.url)) throw new WardenError('DPOP_URL_MISMATCH');
    const nowSec = this.clock.now() / 1000;
    if (iat > nowSec + this.opts.skewSec || iat < nowSec - this.opts.maxAgeSec - this.opts.skewSec) {
      throw new WardenError('DPOP_STALE');
    }
    if (check.accessToken !== undefined) {
      const expected = createHash('sha256').update(check.accessToken).digest('base64url');
      if (ath !== expected) throw new WardenError('DPOP_ATH_MISMATCH');
    } else if (ath !== undefined) {
      throw new WardenError('DPOP_INVALID', { reason: 'ath without access token' });
    }
    if (!this.replay.useOnce(`${key.jkt}:${jti}`, this.clock.now())) throw new WardenError('DPOP_REPLAY');
    return { key, jti };
  }
}
