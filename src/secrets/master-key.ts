import { createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WardenError } from '../errors/warden-error.js';

/** AES-256 key length. */
export const MASTER_KEY_BYTES = 32;

/** The environment variable that holds the master key (it wins over the key file). */
export const MASTER_KEY_ENV = 'WARDEN_MASTER_KEY';

/**
 * The key every secret is sealed with. It lives in the environment or a file of the data
 * directory, never in the database, so a copy of the database alone reveals no secret.
 */
export interface MasterKey {
  /** AES-256 key; a `KeyObject` so the bytes are not casually logged or serialised. */
  readonly key: KeyObject;
  /** First 16 hex digits of the key's SHA-256, stored beside each ciphertext it seals. */
  readonly keyId: string;
  /** Where it came from, for start-up messages. */
  readonly source: 'env' | 'file' | 'created';
}

type Source = 'env' | 'file';

function invalid(source: Source, reason: string): WardenError {
  // The value is never part of the error: it may be a real key with a typo.
  return new WardenError('MASTER_KEY_INVALID', { source, reason });
}

/**
 * Decodes a master key written in base64 (RFC 4648 §4) or base64url (§5), padded or not,
 * around whitespace. Anything else is refused: Node's decoder would skip stray characters and
 * silently yield another key.
 */
export function parseMasterKey(text: string, source: Source): Buffer {
  const s = text.trim();
  if (s.length === 0) throw invalid(source, 'empty');
  if (!/^(?:[A-Za-z0-9+/]{43}|[A-Za-z0-9_-]{43})=?$/.test(s)) throw invalid(source, 'not 32 bytes of base64 or base64url');
  const url = /[-_]/.test(s);
  const raw = Buffer.from(s, url ? 'base64url' : 'base64');
  // The last character carries two unused bits; a key whose encoding is not canonical was
  // mistyped, not produced by an encoder.
  if (raw.length !== MASTER_KEY_BYTES || raw.toString(url ? 'base64url' : 'base64').replace(/=+$/, '') !== s.replace(/=+$/, '')) {
    throw invalid(source, 'not 32 bytes of base64 or base64url');
  }
  return raw;
}

/** The key id of raw key bytes: first 16 hex digits of SHA-256. */
export function masterKeyId(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** A `MasterKey` from raw bytes (tests, and the loaders below). */
export function masterKeyFrom(raw: Uint8Array, source: MasterKey['source']): MasterKey {
  if (raw.byteLength !== MASTER_KEY_BYTES) throw new TypeError(`a master key is ${MASTER_KEY_BYTES} bytes`);
  return { key: createSecretKey(Buffer.from(raw)), keyId: masterKeyId(raw), source };
}

/**
 * Loads the master key: from `envValue` (the `WARDEN_MASTER_KEY` environment variable) when it
 * is set, else from `file`, which is created (mode 0600, 32 random bytes in base64url) when it
 * does not exist yet. A set but unusable value is an error, never a reason to fall back to the
 * file: Warden would come up with another key and fail on every secret.
 *
 * Replicas sharing one database MUST share one master key: give them the same variable, or
 * the same key file.
 */
export async function loadMasterKey(opts: { envValue: string | undefined; file: string }): Promise<MasterKey> {
  if (opts.envValue !== undefined) return masterKeyFrom(parseMasterKey(opts.envValue, 'env'), 'env');
  let text: string;
  try {
    text = await readFile(opts.file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new WardenError('MASTER_KEY_INVALID', { source: 'file', reason: 'cannot be read' }, { cause: err });
    }
    return createKeyFile(opts.file);
  }
  return masterKeyFrom(parseMasterKey(text, 'file'), 'file');
}

async function createKeyFile(file: string): Promise<MasterKey> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const raw = randomBytes(MASTER_KEY_BYTES);
  // Written aside, then linked into place: link() fails if the name exists, and whoever finds
  // the file finds it complete, so processes starting together all end up with one key.
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, `${raw.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadMasterKey({ envValue: undefined, file });
    throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return masterKeyFrom(raw, 'created');
}
