import { randomBytes } from 'node:crypto';
import { ApiKeyIdSchema, type ApiKeyId } from '../domain/index.js';
import { constantTimeEqual, sha256b64u } from '../util/secret-compare.js';

/**
 * Person API keys look like `wdn_<key id>.<secret>`. The id finds the record; only the SHA-256
 * of the 256-bit secret is stored, and it is compared in constant time.
 */
export const API_KEY_PREFIX = 'wdn_';

export function mintApiKey(id: ApiKeyId): { presented: string; secretHash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { presented: `${API_KEY_PREFIX}${id}.${secret}`, secretHash: sha256b64u(secret) };
}

/** Splits a presented key; null when it is not of the form (no lookup is made for those). */
export function splitApiKey(presented: string): { id: ApiKeyId; secret: string } | null {
  if (!presented.startsWith(API_KEY_PREFIX) || presented.length > 200) return null;
  const rest = presented.slice(API_KEY_PREFIX.length);
  const dot = rest.indexOf('.');
  if (dot < 0) return null;
  const id = ApiKeyIdSchema.safeParse(rest.slice(0, dot));
  const secret = rest.slice(dot + 1);
  if (!id.success || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  return { id: id.data, secret };
}

export function secretMatches(secret: string, storedHash: string): boolean {
  return constantTimeEqual(sha256b64u(secret), storedHash);
}
