import { verify, type KeyObject } from 'node:crypto';

/** The only JWS algorithms Warden verifies for agents and its own tokens. */
export const ACCEPTED_ALGS = ['EdDSA', 'ES256'] as const;
export type AcceptedAlg = (typeof ACCEPTED_ALGS)[number];

export function isAcceptedAlg(alg: unknown): alg is AcceptedAlg {
  return alg === 'EdDSA' || alg === 'ES256';
}

/**
 * Verifies a JWS signature with node:crypto, synchronously: for checks whose result is cached
 * (an access token once per token, a client assertion at the token endpoint).
 * The key's type must match the algorithm (RFC 8725 §3.1: never let the token choose the key
 * type); signatures must have the exact fixed length of their algorithm (RFC 7518 §3.4: ES256
 * is R‖S, 64 bytes; RFC 8037 §3.1: Ed25519 is 64 bytes).
 */
export function verifyJwsSignature(alg: AcceptedAlg, key: KeyObject, signingInput: string, signature: Buffer): boolean {
  const check = checkOf(alg, key, signature);
  if (!check) return false;
  try {
    return verify(check.algorithm, Buffer.from(signingInput, 'ascii'), check.key, signature);
  } catch {
    return false;
  }
}

/**
 * {@link verifyJwsSignature} on libuv's thread pool: the check a request pays every time (its
 * DPoP proof) leaves the event loop free for other requests while the curve arithmetic runs on
 * another core. The same rules, the same answer; never rejects.
 */
export function verifyJwsSignatureAsync(alg: AcceptedAlg, key: KeyObject, signingInput: string, signature: Buffer): Promise<boolean> {
  const check = checkOf(alg, key, signature);
  if (!check) return Promise.resolve(false);
  const data = Buffer.from(signingInput, 'ascii');
  return new Promise((resolve) => {
    try {
      verify(check.algorithm, data, check.key, signature, (err, ok) => resolve(err === null && ok === true));
    } catch {
      resolve(false);
    }
  });
}

/**
 * What `crypto.verify` is given for `alg`, or null when the key's type does not fit the algorithm
 * or the signature is not the algorithm's fixed length: the rules both paths share.
 */
function checkOf(alg: AcceptedAlg, key: KeyObject, signature: Buffer): { algorithm: string | null; key: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' } } | null {
  if (signature.length !== 64) return null;
  if (alg === 'EdDSA') return key.asymmetricKeyType === 'ed25519' ? { algorithm: null, key } : null;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return null;
  return { algorithm: 'sha256', key: { key, dsaEncoding: 'ieee-p1363' } };
}
