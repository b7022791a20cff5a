import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { SigningKeyRecord } from '../../domain/index.js';
import { WardenError } from '../../errors/warden-error.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';

/** Warden's current signing key: the private half lives only in the data directory. */
export interface ActiveSigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

interface KeyFile {
  kid: string;
  createdAt: number;
  privateJwk: Record<string, unknown>;
}

/**
 * Warden's Ed25519 token-signing keys.
 *
 * Private keys are files (mode 0600) in `<data-dir>/keys/`; public halves are rows in the
 * store, so every replica sharing a database can verify every replica's tokens and the JWKS
 * lists them all. Rotation (`warden keys rotate`) makes a new key the signer; the old one stays
 * published until the last token it signed has expired (`verifyUntil`).
 */
export class SigningKeyRing {
  private active: ActiveSigningKey | null = null;
  private published = new Map<string, { record: SigningKeyRecord; key: KeyObject }>();

  constructor(
    private readonly dir: string,
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Loads the newest local key (creating the first one) and the published public keys. */
  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const files = await this.readKeyFiles();
    await this.refresh();
    const usable = files.filter((f) => {
      const rec = this.published.get(f.kid)?.record;
      return rec !== undefined && rec.retiredAt === null;
    });
    const newest = usable.sort((a, b) => b.createdAt - a.createdAt)[0];
    if (newest) {
      this.active = { kid: newest.kid, privateKey: createPrivateKey({ key: newest.privateJwk as never, format: 'jwk' }) };
    } else {
      await this.rotate(0);
    }
  }

  /**
   * Starts signing with a fresh key. The previous key keeps verifying for `overlapMs` (the
   * longest a token it signed can still live, plus clock skew).
   */
  async rotate(overlapMs: number): Promise<string> {
    const now = this.clock.now();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const publicJwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
    const kid = await calculateJwkThumbprint(publicJwk as JWK, 'sha256');
    const file: KeyFile = { kid, createdAt: now, privateJwk: privateKey.export({ format: 'jwk' }) as Record<string, unknown> };
    // Written before the public half is published, so a published key always has its signer.
    await writeFile(join(this.dir, `${kid}.jwk.json`), JSON.stringify(file), { mode: 0o600, flag: 'wx' });
    await this.store.insertSigningKey({
      kid,
      publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' },
      createdAt: now,
      retiredAt: null,
      verifyUntil: null,
    });
    const previous = this.active;
    this.active = { kid, privateKey };
    if (previous) await this.store.retireSigningKey(previous.kid, now, now + overlapMs);
    await this.refresh();
    return kid;
  }

  /** Reloads the public keys from the store (they may come from other replicas). */
  async refresh(): Promise<void> {
    const next = new Map<string, { record: SigningKeyRecord; key: KeyObject }>();
    for (const record of await this.store.listSigningKeys()) {
      try {
        next.set(record.kid, { record, key: createPublicKey({ key: record.publicJwk as never, format: 'jwk' }) });
      } catch (cause) {
        throw new WardenError('INTERNAL', { table: 'signing_keys', reason: 'unusable public key' }, { cause });
      }
    }
    this.published = next;
  }

  signer(): ActiveSigningKey {
    if (!this.active) throw new TypeError('SigningKeyRing.load() was not called');
    return this.active;
  }

  /** The verification key for `kid`, if it is published and still within its verify window. */
  verificationKey(kid: string): KeyObject | null {
    const entry = this.published.get(kid);
    if (!entry) return null;
    const until = entry.record.verifyUntil;
    if (until !== null && until <= this.clock.now()) return null;
    return entry.key;
  }

  hasKid(kid: string): boolean {
    return this.published.has(kid);
  }

  /** The JWKS document (RFC 7517 §5): every key whose tokens can still be valid. */
  jwks(): { keys: Record<string, unknown>[] } {
    const now = this.clock.now();
    return {
      keys: [...this.published.values()]
        .filter(({ record }) => record.verifyUntil === null || record.verifyUntil > now)
        .map(({ record }) => record.publicJwk),
    };
  }

  private async readKeyFiles(): Promise<KeyFile[]> {
    const out: KeyFile[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.jwk.json')) continue;
      try {
        const parsed = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as KeyFile;
        if (typeof parsed.kid === 'string' && typeof parsed.createdAt === 'number' && parsed.privateJwk) out.push(parsed);
      } catch (cause) {
        throw new WardenError('INTERNAL', { reason: 'unreadable signing key file', file: name }, { cause });
      }
    }
    return out;
  }
}
