import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SECRET_NONCE_BYTES, SECRET_TAG_BYTES, type SealedSecret } from '../domain/index.js';
import { WardenError } from '../errors/warden-error.js';
import type { MasterKey } from './master-key.js';

/** Which row a ciphertext belongs to. Bound in as associated data, so it cannot be moved. */
export interface SecretSlot {
  readonly name: string;
  readonly version: number;
}

/**
 * The associated data of a slot: a format label, then name and version, NUL-separated (names
 * cannot hold NUL, so no two slots encode alike). The label lets a later format change.
 */
function aadOf(slot: SecretSlot): Buffer {
  if (!Number.isSafeInteger(slot.version) || slot.version < 1) throw new TypeError('a secret version is a positive integer');
  return Buffer.from(`warden.secret.v1\0${slot.name}\0${slot.version}`, 'utf8');
}

/**
 * Seals `plaintext` (as UTF-8) with AES-256-GCM under the master key, with a fresh random
 * 96-bit nonce (NIST SP 800-38D §8.2.2: random nonces are safe for far more messages than a
 * secret store writes) and the slot as associated data.
 */
export function sealSecret(key: MasterKey, plaintext: string, slot: SecretSlot): SealedSecret {
  const nonce = randomBytes(SECRET_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce, { authTagLength: SECRET_TAG_BYTES });
  cipher.setAAD(aadOf(slot));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { ciphertext, nonce, keyId: key.keyId };
}

/**
 * Opens a sealed secret for its slot. Rejects with `SECRET_KEY_MISMATCH` when another master
 * key sealed it, and with `SECRET_TAMPERED` when it does not authenticate (ciphertext, tag,
 * nonce, name or version changed): no unauthenticated byte is ever returned.
 */
export function openSecret(key: MasterKey, sealed: SealedSecret, slot: SecretSlot): string {
  if (sealed.keyId !== key.keyId) {
    throw new WardenError('SECRET_KEY_MISMATCH', { name: slot.name, version: slot.version, keyId: sealed.keyId });
  }
  const data = Buffer.from(sealed.ciphertext);
  if (sealed.nonce.byteLength !== SECRET_NONCE_BYTES || data.length <= SECRET_TAG_BYTES) {
    throw new WardenError('SECRET_TAMPERED', { name: slot.name, version: slot.version });
  }
  // authTagLength pins the tag to 16 bytes: without it, Node would accept a truncated tag.
  const decipher = createDecipheriv('aes-256-gcm', key.key, sealed.nonce, { authTagLength: SECRET_TAG_BYTES });
  decipher.setAAD(aadOf(slot));
  decipher.setAuthTag(data.subarray(data.length - SECRET_TAG_BYTES));
  try {
    const plain = Buffer.concat([decipher.update(data.subarray(0, data.length - SECRET_TAG_BYTES)), decipher.final()]);
    return plain.toString('utf8');
  } catch (cause) {
    throw new WardenError('SECRET_TAMPERED', { name: slot.name, version: slot.version }, { cause });
  }
}
