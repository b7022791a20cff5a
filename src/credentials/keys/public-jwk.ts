import { createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { decodeCanonicalB64u } from '../jws/compact.js';
import type { AcceptedAlg } from '../jws/verify-signature.js';

/** A public key that passed validation: its minimal JWK, algorithm, node KeyObject and thumbprint. */
export interface ValidPublicKey {
  /** Only the members RFC 7638 §3.2 requires: no private or optional members survive. */
  readonly jwk: Readonly<Record<string, string>>;
  readonly alg: AcceptedAlg;
  readonly key: KeyObject;
  /** RFC 7638 JWK SHA-256 thumbprint, base64url. */
  readonly jkt: string;
}

export type JwkRejection =
  | 'not_an_object'
  | 'private_key'
  | 'unsupported_key_type'
  | 'bad_coordinates'
  | 'wrong_use'
  | 'wrong_alg';

/**
 * A 32-byte coordinate in its one canonical base64url spelling. Node's decoder ignores the
 * unused low bits of the last character, so without the round trip one key would have
 * several spellings and so several thumbprints: retiring one would leave the others live.
 */
const isCoord = (c: unknown): c is string => typeof c === 'string' && decodeCanonicalB64u(c)?.length === 32;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/**
 * Validates a public JWK for an agent key or a DPoP proof: Ed25519 (RFC 8037) or P-256
 * (RFC 7518 §6.2) only, no private members, `use`/`key_ops`/`alg` consistent with signature
 * verification when present (Wycheproof `rejectWrongUse`, `rejectWrongKeyOps`), and the point
 * must lie on its curve (node:crypto checks when importing).
 */
export async function validatePublicJwk(input: unknown): Promise<ValidPublicKey | JwkRejection> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return 'not_an_object';
  const j = input as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((m) => m in j)) return 'private_key';
  if (j.use !== undefined && j.use !== 'sig') return 'wrong_use';
  if (j.key_ops !== undefined && !(Array.isArray(j.key_ops) && j.key_ops.includes('verify'))) return 'wrong_use';

  let jwk: Record<string, string>;
  let alg: AcceptedAlg;
  if (j.kty === 'OKP' && j.crv === 'Ed25519') {
    if (!isCoord(j.x)) return 'bad_coordinates';
    jwk = { crv: 'Ed25519', kty: 'OKP', x: j.x };
    alg = 'EdDSA';
  } else if (j.kty === 'EC' && j.crv === 'P-256') {
    if (!isCoord(j.x) || !isCoord(j.y)) return 'bad_coordinates';
    jwk = { crv: 'P-256', kty: 'EC', x: j.x, y: j.y };
    alg = 'ES256';
  } else {
    return 'unsupported_key_type';
  }
  if (j.alg !== undefined && j.alg !== alg) return 'wrong_alg';

  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    return 'bad_coordinates';
  }
  const jkt = await calculateJwkThumbprint(jwk as JWK, 'sha256');
  return { jwk, alg, key, jkt };
}

/**
 * DPoP proofs carry their key in every request; validating and hashing it each time costs
 * more than the signature check. Valid keys are remembered by their members (bounded).
 */
export class PublicKeyCache {
  private readonly entries = new Map<string, ValidPublicKey>();
  constructor(private readonly max = 10_000) {}

  async get(input: unknown): Promise<ValidPublicKey | JwkRejection> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return 'not_an_object';
    const j = input as Record<string, unknown>;
    // The cache key is every member with its exact value (undefined kept apart from null), so
    // a cached answer is the answer validation would give.
    const cacheKey = JSON.stringify(Object.keys(j).sort().map((k) => [k, j[k] === undefined ? { undefined: true } : j[k]]));
    const hit = this.entries.get(cacheKey);
    if (hit) return hit;
    const result = await validatePublicJwk(input);
    if (typeof result !== 'string') {
      if (this.entries.size >= this.max) this.entries.clear();
      this.entries.set(cacheKey, result);
    }
    return result;
  }
}
