import { createHash, timingSafeEqual } from 'node:crypto';

/** SHA-256, base64url: how API key secrets are stored (the secrets are 256-bit random). */
export function sha256b64u(input: string | Uint8Array): string {
  return createHash('sha256').update(input).digest('base64url');
}

/** Constant-time equality of two strings of any length (compares their SHA-256 digests). */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
