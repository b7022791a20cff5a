/**
 * Credentials in the right format, made from random bytes at test time. The repository holds
 * no literal secret, not even a dead one: push protection would flag it, and so would we.
 */
import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { base62, crc32 } from '../../src/scanning/validators.js';

export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const DIGITS = '0123456789';
export const ALNUM = UPPER + LOWER + DIGITS;
export const HEX = '0123456789abcdef';
export const BASE32 = `${UPPER}234567`;
export const BASE64 = `${ALNUM}+/`;
export const BASE64URL = `${ALNUM}-_`;

/** `n` characters drawn uniformly from `alphabet`. */
export function pick(alphabet: string, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** `pick` until the result has upper- and lower-case letters (and digits when asked). */
export function pickMixed(alphabet: string, n: number, digits = false): string {
  for (;;) {
    const s = pick(alphabet, n);
    if (/[A-Z]/.test(s) && /[a-z]/.test(s) && (!digits || /[0-9]/.test(s))) return s;
  }
}

export const b64 = (bytes: number): string => randomBytes(bytes).toString('base64');
export const b64url = (bytes: number): string => randomBytes(bytes).toString('base64url');

/** GitHub / npm style: prefix, 30 random base62, then their CRC-32 in base 62. */
export function checksummed(prefix: string): string {
  const random = pick(ALNUM, 30);
  return `${prefix}${random}${base62(crc32(random), 6)}`;
}

/** The same token with its last character changed: the checksum no longer holds. */
export function breakLastChar(token: string): string {
  const last = token.at(-1)!;
  return token.slice(0, -1) + (last === 'a' ? 'b' : 'a');
}

export function pemKey(kind: 'pkcs8' | 'rsa' | 'ec' | 'encrypted' | 'openssh'): string {
  if (kind === 'openssh') {
    // Node cannot write the OpenSSH format; its armor around random bytes is what matters here.
    const body = randomBytes(300).toString('base64').replace(/.{70}/g, '$&\n');
    return `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`;
  }
  if (kind === 'rsa') {
    return generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (kind === 'ec') return privateKey.export({ type: 'sec1', format: 'pem' }).toString();
  if (kind === 'encrypted') {
    return privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: pick(ALNUM, 16) }).toString();
  }
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A compact JWS with a real JSON header and random signature bytes. */
export function jwt(): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'JWT', kid: pick(ALNUM, 8) })}.${part({ sub: pick(ALNUM, 12), exp: 2_000_000_000 })}.${b64url(64)}`;
}

export { randomBytes };
