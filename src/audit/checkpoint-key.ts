import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { keyId, noteVerifier, verifierKey, type Signer, type Verifier } from './checkpoint/index.js';

/** The log's checkpoint signer, its verifier, and the verifier key string people publish. */
export interface CheckpointKey {
  readonly signer: Signer;
  readonly verifier: Verifier;
  /** `<name>+<key id>+<base64 key>`: what `warden audit verify --key` and note verifiers take. */
  readonly vkey: string;
  readonly origin: string;
}

/**
 * Loads the Ed25519 key that signs checkpoints from `file` (a private JWK, mode 0600), creating
 * it on first start. Replicas sharing a database share this file, like the master key, so all
 * sign as one log. The origin (and key name) defaults to `warden/audit/<key id>`: unique to the
 * key, stable while it lives.
 */
export async function loadCheckpointKey(file: string, origin: string | undefined, opts: { create?: boolean } = {}): Promise<CheckpointKey> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: JSON.parse(await readFile(file, 'utf8')) as never, format: 'jwk' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || opts.create === false) throw new Error(`cannot read the audit checkpoint key ${file}`, { cause: err });
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    privateKey = generateKeyPairSync('ed25519').privateKey;
    try {
      await writeFile(file, JSON.stringify(privateKey.export({ format: 'jwk' })), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      // Another process made it first: use theirs.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      return loadCheckpointKey(file, origin);
    }
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`the audit checkpoint key ${file} is not an Ed25519 key`);
  const publicKey = createPublicKey(privateKey);
  const name = origin ?? `warden/audit/${keyId('warden/audit', publicKey).toString(16).padStart(8, '0')}`;
  return { signer: { name, privateKey }, verifier: noteVerifier(name, publicKey), vkey: verifierKey(name, publicKey), origin: name };
}
