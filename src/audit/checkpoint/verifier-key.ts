import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { CheckpointError } from './checkpoint-error.js';
import { decodeBase64, isKeyName } from './note-syntax.js';

// SPEC: https://c2sp.org/signed-note ("Signature types"): 0x01 is Ed25519.
const ED25519 = 0x01;

/** A key that signs notes: its name (see {@link isKeyName}) and its Ed25519 private key. */
export interface Signer {
  readonly name: string;
  readonly privateKey: KeyObject;
}

/**
 * A trusted key: name, key ID and Ed25519 public key. Made only by {@link noteVerifier} or
 * {@link parseVerifierKey}, which guarantee the ID belongs to the name and key; `openNote`
 * refuses any other object, so a hand-built verifier with a wrong ID cannot slip in.
 */
export interface Verifier {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: KeyObject;
}

const made = new WeakSet<Verifier>();

/** Whether `v` came from {@link noteVerifier} or {@link parseVerifierKey}. */
export function isVerifier(v: unknown): v is Verifier {
  return typeof v === 'object' && v !== null && made.has(v as Verifier);
}

/**
 * The key ID: the first four bytes, big-endian, of SHA-256(name || 0x0A || 0x01 || 32-byte
 * public key) (c2sp.org/signed-note, "Ed25519 signatures").
 */
export function keyId(name: string, publicKey: KeyObject): number {
  const digest = createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519]))
    .update(rawPublicKey(publicKey))
    .digest();
  return digest.readUInt32BE(0);
}

/** A verifier for the Ed25519 `publicKey` under `name`. @throws TypeError for a bad name or key. */
export function noteVerifier(name: string, publicKey: KeyObject): Verifier {
  if (!isKeyName(name)) throw new TypeError('a key name is non-empty, without spaces or "+"');
  const verifier = Object.freeze({ name, keyId: keyId(name, publicKey), publicKey });
  made.add(verifier);
  return verifier;
}

/**
 * The verifier key string `<name>+<key ID, 8 hex digits>+<base64(0x01 || public key)>`, the
 * form golang.org/x/mod/sumdb/note and its ecosystem exchange.
 */
export function verifierKey(name: string, publicKey: KeyObject): string {
  const v = noteVerifier(name, publicKey);
  const id = v.keyId.toString(16).padStart(8, '0');
  return `${name}+${id}+${Buffer.concat([Buffer.from([ED25519]), rawPublicKey(publicKey)]).toString('base64')}`;
}

/**
 * The verifier a verifier key string describes, after checking that its key ID is the one
 * its name and key hash to.
 *
 * @throws CheckpointError `VKEY_MALFORMED` (with a `reason`) for anything else.
 */
export function parseVerifierKey(vkey: string): Verifier {
  const bad = (reason: string) => new CheckpointError('VKEY_MALFORMED', { reason });
  if (typeof vkey !== 'string') throw bad('not a string');
  // The name holds no "+", the ID is hex; base64 may hold "+", so only the first two split.
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  if (first < 0 || second < 0) throw bad('expected <name>+<id>+<key>');
  const name = vkey.slice(0, first);
  const id = vkey.slice(first + 1, second);
  const key = decodeBase64(vkey.slice(second + 1));
  if (!isKeyName(name)) throw bad('invalid key name');
  if (!/^[0-9a-fA-F]{8}$/.test(id)) throw bad('key ID is not 8 hex digits');
  if (key === undefined || key.length === 0) throw bad('key is not base64');
  if (key[0] !== ED25519) throw bad('unsupported signature type');
  if (key.length !== 33) throw bad('an Ed25519 key is 32 bytes');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.subarray(1).toString('base64url') }, format: 'jwk' });
  } catch {
    throw bad('not an Ed25519 public key');
  }
  const verifier = noteVerifier(name, publicKey);
  if (verifier.keyId !== Number.parseInt(id, 16)) throw bad('key ID does not match name and key');
  return verifier;
}

/** The 32-byte RFC 8032 encoding of an Ed25519 public key. @throws TypeError for another key. */
export function rawPublicKey(publicKey: KeyObject): Buffer {
  if (publicKey?.type !== 'public' || publicKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('an Ed25519 public key is required');
  }
  const { x } = publicKey.export({ format: 'jwk' });
  return Buffer.from(x ?? '', 'base64url');
}
