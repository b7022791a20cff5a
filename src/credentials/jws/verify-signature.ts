import { verify, type KeyObject } from 'node:crypto';

/** The only JWS algorithms Warden verifies for agents and its own tokens. */
export const ACCEPTED_ALGS = ['EdDSA', 'ES256'] as const;
export type AcceptedAlg = (typeof ACCEPTED_ALGS)[number];

export function isAcceptedAlg(alg: unknown): alg is AcceptedAlg {
  return alg === 'EdDSA' || alg === 'ES256';
}

/**
 * Verifies a JWS signature with node:crypto (synchronous: this sits on every request).
 * The key's type must match the algorithm (RFC 8725 §3.1: never let the token choose the key
 * type); signatures must have the exact fixed length of their algorithm (RFC 7518 §3.4: ES256
 * is R‖S, 64 bytes; RFC 8037 §3.1: Ed25519 is 64 bytes).
 */
export function verifyJwsSignature(alg: AcceptedAlg, key: KeyObject, signingInput: string, signature: Buffer): boolean {
  if (signature.length !== 64) return false;
  const data = Buffer.from(signingInput, 'ascii');
  try {
    if (alg === 'EdDSA') {
      if (key.asymmetricKeyType !== 'ed25519') return false;
      return verify(null, data, key, signature);
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return false;
    return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
