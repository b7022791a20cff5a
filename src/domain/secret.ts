import { z } from 'zod';
import { ActorSchema } from './event.js';

/**
 * A secret's name: what upstream configs refer to (`github.token`). Lower case so that two
 * spellings can never name two secrets, and no `/` or spaces so it fits a URL path and a CLI
 * argument without quoting.
 */
export const SecretNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, 'a-z, 0-9, _ . - (at most 100, starting with a letter or digit)');

/** AES-GCM nonce length (NIST SP 800-38D §8.2: 96-bit IVs are the recommended length). */
export const SECRET_NONCE_BYTES = 12;
/** AES-GCM tag length; shorter tags are refused when opening. */
export const SECRET_TAG_BYTES = 16;
/** Largest value, in UTF-8 bytes. */
export const SECRET_MAX_VALUE_BYTES = 64 * 1024;

/** Bytes (a `Buffer` from either driver) of a length within bounds. */
const bytes = (min: number, max: number) =>
  z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.byteLength >= min && v.byteLength <= max, `${min}..${max} bytes`);

/** What sealing a value produced: AES-256-GCM output (ciphertext, then tag) and its inputs. */
export const SealedSecretSchema = z.object({
  /** Ciphertext followed by the 16-byte tag. */
  ciphertext: bytes(1 + SECRET_TAG_BYTES, SECRET_MAX_VALUE_BYTES + SECRET_TAG_BYTES),
  nonce: bytes(SECRET_NONCE_BYTES, SECRET_NONCE_BYTES),
  /** Which master key sealed it: first 16 hex digits of its SHA-256. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
});
export type SealedSecret = z.infer<typeof SealedSecretSchema>;

/**
 * One version of a secret without its sealed value: what may be listed. A version is *live* at
 * `now` while `notAfter` is null or later than `now`; the newest version has no `notAfter`.
 */
export const SecretVersionMetaSchema = z.object({
  name: SecretNameSchema,
  version: z.number().int().min(1),
  keyId: SealedSecretSchema.shape.keyId,
  createdAt: z.number().int(),
  notAfter: z.number().int().nullable(),
  createdBy: ActorSchema,
});
export type SecretVersionMeta = z.infer<typeof SecretVersionMetaSchema>;

/** One version of a secret as stored: metadata and the sealed value. */
export const SecretVersionSchema = SecretVersionMetaSchema.extend({
  ciphertext: SealedSecretSchema.shape.ciphertext,
  nonce: SealedSecretSchema.shape.nonce,
});
export type SecretVersion = z.infer<typeof SecretVersionSchema>;

/** What the store needs, besides the sealed value, to add a version of a secret. */
export interface SecretVersionDraft {
  readonly name: string;
  readonly createdAt: number;
  readonly createdBy: z.infer<typeof ActorSchema>;
  /** Every earlier version of the name stops being live at this instant, or earlier if it already did. */
  readonly previousNotAfter: number;
}
