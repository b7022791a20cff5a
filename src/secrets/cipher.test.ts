import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { SealedSecret } from '../domain/index.js';
import type { ErrorCode } from '../errors/registry.js';
import { WardenError } from '../errors/warden-error.js';
import { openSecret, sealSecret } from './cipher.js';
import { masterKeyFrom } from './master-key.js';

const key = masterKeyFrom(randomBytes(32), 'created');
const slot = { name: 'github.token', version: 3 };

function throwsCode(fn: () => unknown, code: ErrorCode): WardenError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof WardenError, `expected a WardenError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}

/** A copy of `b` with byte `i` flipped. */
const flip = (b: Uint8Array, i: number): Buffer => {
  const copy = Buffer.from(b);
  copy[i] = copy[i]! ^ 0x01;
  return copy;
};

describe('sealSecret and openSecret', () => {
  const value = `ghp_${randomBytes(18).toString('base64url')} ✓ ünïcödé`;

  it('round-trips a value, Unicode included', () => {
    const sealed = sealSecret(key, value, slot);
    assert.equal(openSecret(key, sealed, slot), value);
    assert.equal(sealed.keyId, key.keyId);
    assert.equal(sealed.nonce.byteLength, 12);
    assert.equal(sealed.ciphertext.byteLength, Buffer.byteLength(value) + 16);
  });

  it('uses a fresh nonce for every sealing, so equal values never give equal ciphertexts', () => {
    const a = sealSecret(key, value, slot);
    const b = sealSecret(key, value, slot);
    assert.notDeepEqual(Buffer.from(a.nonce), Buffer.from(b.nonce));
    assert.notDeepEqual(Buffer.from(a.ciphertext), Buffer.from(b.ciphertext));
  });

  it('does not contain the value in the clear', () => {
    const sealed = sealSecret(key, value, slot);
    assert.ok(!Buffer.from(sealed.ciphertext).includes(Buffer.from(value)));
  });

  it('rejects a changed ciphertext or tag with SECRET_TAMPERED', () => {
    const sealed = sealSecret(key, value, slot);
    for (const i of [0, 5, sealed.ciphertext.byteLength - 16, sealed.ciphertext.byteLength - 1]) {
      throwsCode(() => openSecret(key, { ...sealed, ciphertext: flip(sealed.ciphertext, i) }, slot), 'SECRET_TAMPERED');
    }
  });

  it('rejects a truncated tag or ciphertext with SECRET_TAMPERED', () => {
    const sealed = sealSecret(key, value, slot);
    // GCM would check a 4-byte tag if asked to; the tag length is pinned to 16.
    const shortTag = Buffer.from(sealed.ciphertext).subarray(0, sealed.ciphertext.byteLength - 12);
    throwsCode(() => openSecret(key, { ...sealed, ciphertext: shortTag }, slot), 'SECRET_TAMPERED');
    throwsCode(() => openSecret(key, { ...sealed, ciphertext: Buffer.from(sealed.ciphertext).subarray(0, 16) }, slot), 'SECRET_TAMPERED');
  });

  it('rejects a changed nonce with SECRET_TAMPERED', () => {
    const sealed = sealSecret(key, value, slot);
    throwsCode(() => openSecret(key, { ...sealed, nonce: flip(sealed.nonce, 11) }, slot), 'SECRET_TAMPERED');
    throwsCode(() => openSecret(key, { ...sealed, nonce: randomBytes(16) }, slot), 'SECRET_TAMPERED');
  });

  it('rejects a ciphertext moved to another name or version with SECRET_TAMPERED', () => {
    const sealed = sealSecret(key, value, slot);
    const err = throwsCode(() => openSecret(key, sealed, { name: 'github.tokens', version: 3 }), 'SECRET_TAMPERED');
    assert.deepEqual(err.details, { name: 'github.tokens', version: 3 });
    throwsCode(() => openSecret(key, sealed, { name: 'github.token', version: 4 }), 'SECRET_TAMPERED');
    throwsCode(() => openSecret(key, sealed, { name: 'github.token', version: 2 }), 'SECRET_TAMPERED');
  });

  it('rejects a value sealed under another master key with SECRET_KEY_MISMATCH, naming the key it needs', () => {
    const other = masterKeyFrom(randomBytes(32), 'env');
    const sealed = sealSecret(other, value, slot);
    const err = throwsCode(() => openSecret(key, sealed, slot), 'SECRET_KEY_MISMATCH');
    assert.equal(err.details?.keyId, other.keyId);
  });

  it('rejects another key claiming our key id with SECRET_TAMPERED, never garbage', () => {
    const forged: SealedSecret = { ...sealSecret(masterKeyFrom(randomBytes(32), 'env'), value, slot), keyId: key.keyId };
    throwsCode(() => openSecret(key, forged, slot), 'SECRET_TAMPERED');
  });

  it('keeps the value out of every error it raises', () => {
    const sealed = sealSecret(key, value, slot);
    const errors = [
      throwsCode(() => openSecret(key, { ...sealed, ciphertext: flip(sealed.ciphertext, 0) }, slot), 'SECRET_TAMPERED'),
      throwsCode(() => openSecret(masterKeyFrom(randomBytes(32), 'env'), sealed, slot), 'SECRET_KEY_MISMATCH'),
    ];
    for (const e of errors) assert.ok(!JSON.stringify({ m: e.message, d: e.details }).includes(value));
  });
});
