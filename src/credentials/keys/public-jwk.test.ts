import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { PublicKeyCache, validatePublicJwk, type ValidPublicKey } from './public-jwk.js';

type Jwk = Record<string, unknown>;

const p256 = (): { pub: Jwk; priv: Jwk } => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { pub: publicKey.export({ format: 'jwk' }) as Jwk, priv: privateKey.export({ format: 'jwk' }) as Jwk };
};
const ed25519 = (): { pub: Jwk; priv: Jwk } => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { pub: publicKey.export({ format: 'jwk' }) as Jwk, priv: privateKey.export({ format: 'jwk' }) as Jwk };
};

async function valid(input: unknown): Promise<ValidPublicKey> {
  const result = await validatePublicJwk(input);
  assert.notEqual(typeof result, 'string', `rejected: ${String(result)}`);
  return result as ValidPublicKey;
}

const B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/**
 * The same 32 bytes spelled differently: a 43-character coordinate carries 2 unused bits in its
 * last character, and a lenient decoder ignores them.
 */
function nonCanonical(coord: string): string {
  const i = B64U.indexOf(coord.at(-1) ?? '');
  return coord.slice(0, -1) + B64U[(i & ~3) | ((i + 1) & 3)];
}

describe('validatePublicJwk', () => {
  it('accepts a P-256 public key and returns its RFC 7638 thumbprint', async () => {
    const { pub } = p256();
    const key = await valid(pub);
    assert.equal(key.alg, 'ES256');
    assert.deepEqual(key.jwk, { crv: 'P-256', kty: 'EC', x: pub.x, y: pub.y });
    assert.equal(key.key.type, 'public');
    assert.equal(key.jkt, await calculateJwkThumbprint(pub as JWK, 'sha256'));
  });

  it('accepts an Ed25519 public key and returns its RFC 7638 thumbprint', async () => {
    const { pub } = ed25519();
    const key = await valid(pub);
    assert.equal(key.alg, 'EdDSA');
    assert.deepEqual(key.jwk, { crv: 'Ed25519', kty: 'OKP', x: pub.x });
    assert.equal(key.key.asymmetricKeyType, 'ed25519');
    assert.equal(key.jkt, await calculateJwkThumbprint(pub as JWK, 'sha256'));
  });

  it('accepts consistent optional members and drops them from the key it returns', async () => {
    const { pub } = p256();
    const key = await valid({ ...pub, kid: 'k1', use: 'sig', alg: 'ES256', key_ops: ['verify'] });
    assert.deepEqual(Object.keys(key.jwk).sort(), ['crv', 'kty', 'x', 'y']);
    assert.equal(key.jkt, (await valid(pub)).jkt);
  });

  it('rejects a value that is not an object', async () => {
    for (const v of [null, undefined, 'jwk', 42, [{ kty: 'OKP' }]]) assert.equal(await validatePublicJwk(v), 'not_an_object');
  });

  it('rejects a private JWK', async () => {
    assert.equal(await validatePublicJwk(p256().priv), 'private_key');
    assert.equal(await validatePublicJwk(ed25519().priv), 'private_key');
  });

  it('rejects a symmetric key', async () => {
    assert.equal(await validatePublicJwk({ kty: 'oct', k: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8' }), 'private_key');
  });

  it('rejects an RSA key', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    assert.equal(await validatePublicJwk(publicKey.export({ format: 'jwk' })), 'unsupported_key_type');
  });

  it('rejects a P-384 key', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    assert.equal(await validatePublicJwk(publicKey.export({ format: 'jwk' })), 'unsupported_key_type');
  });

  it('rejects an X25519 key that claims the OKP type', async () => {
    const { publicKey } = generateKeyPairSync('x25519');
    assert.equal(await validatePublicJwk(publicKey.export({ format: 'jwk' })), 'unsupported_key_type');
  });

  it('rejects a key meant for encryption', async () => {
    assert.equal(await validatePublicJwk({ ...p256().pub, use: 'enc' }), 'wrong_use');
  });

  it('rejects key_ops that do not include verify', async () => {
    const { pub } = ed25519();
    assert.equal(await validatePublicJwk({ ...pub, key_ops: ['sign'] }), 'wrong_use');
    assert.equal(await validatePublicJwk({ ...pub, key_ops: ['encrypt'] }), 'wrong_use');
    assert.equal(await validatePublicJwk({ ...pub, key_ops: 'verify' }), 'wrong_use');
  });

  it('rejects an alg that does not fit the key type', async () => {
    assert.equal(await validatePublicJwk({ ...p256().pub, alg: 'EdDSA' }), 'wrong_alg');
    assert.equal(await validatePublicJwk({ ...p256().pub, alg: 'ES384' }), 'wrong_alg');
    assert.equal(await validatePublicJwk({ ...ed25519().pub, alg: 'ES256' }), 'wrong_alg');
  });

  it('rejects coordinates that are not 43 base64url characters', async () => {
    const { pub } = p256();
    const x = String(pub.x);
    assert.equal(await validatePublicJwk({ ...pub, x: x.slice(1) }), 'bad_coordinates');
    assert.equal(await validatePublicJwk({ ...pub, x: `${x}A` }), 'bad_coordinates');
    assert.equal(await validatePublicJwk({ ...pub, x: `${x}=` }), 'bad_coordinates');
    assert.equal(await validatePublicJwk({ ...pub, y: undefined }), 'bad_coordinates');
    assert.equal(await validatePublicJwk({ ...ed25519().pub, x: 'A'.repeat(42) }), 'bad_coordinates');
  });

  it('rejects a P-256 point that is not on the curve', async () => {
    const { pub } = p256();
    const y = Buffer.from(String(pub.y), 'base64url');
    y[31] = (y[31] ?? 0) ^ 1;
    assert.equal(await validatePublicJwk({ ...pub, y: y.toString('base64url') }), 'bad_coordinates');
  });

  // One key must have one thumbprint: agents are told apart, keys revoked and tokens bound by
  // `jkt`. A coordinate with non-zero unused bits decodes to the same point under another jkt.
  it('rejects a P-256 coordinate whose base64url is not canonical', async () => {
    const { pub } = p256();
    assert.equal(await validatePublicJwk({ ...pub, x: nonCanonical(String(pub.x)) }), 'bad_coordinates');
  });

  it('rejects an Ed25519 coordinate whose base64url is not canonical', async () => {
    const { pub } = ed25519();
    assert.equal(await validatePublicJwk({ ...pub, x: nonCanonical(String(pub.x)) }), 'bad_coordinates');
  });
});

describe('PublicKeyCache', () => {
  it('returns the same validated key for the same members', async () => {
    const cache = new PublicKeyCache();
    const { pub } = p256();
    const first = await cache.get(pub);
    assert.notEqual(typeof first, 'string');
    assert.equal(await cache.get({ ...pub }), first);
  });

  it('answers a different key with its own result', async () => {
    const cache = new PublicKeyCache();
    const a = await cache.get(p256().pub);
    const b = await cache.get(p256().pub);
    assert.notEqual(typeof b, 'string');
    assert.notEqual(b, a);
  });

  it('rejects a cached key when a member validation looks at differs', async () => {
    const cache = new PublicKeyCache();
    const { pub } = p256();
    await cache.get(pub);
    assert.equal(await cache.get({ ...pub, use: 'enc' }), 'wrong_use');
    assert.equal(await cache.get({ ...pub, alg: 'EdDSA' }), 'wrong_alg');
    assert.equal(await cache.get({ ...pub, d: 'AAAA' }), 'private_key');
  });

  it('never answers from the cache for a key that validation rejects', async () => {
    const cache = new PublicKeyCache();
    const { pub } = p256();
    await cache.get(pub);
    // JSON null is a different value from an absent member, and validation rejects it.
    assert.equal(await validatePublicJwk({ ...pub, use: null }), 'wrong_use');
    const got: Record<string, unknown> = {};
    for (const member of ['use', 'key_ops', 'alg']) {
      const answer = await cache.get({ ...pub, [member]: null });
      got[member] = typeof answer === 'string' ? answer : 'a cached valid key';
    }
    assert.deepEqual(got, { use: 'wrong_use', key_ops: 'wrong_use', alg: 'wrong_alg' });
  });

  it('gives a rejected key no place in the cache', async () => {
    const cache = new PublicKeyCache(2);
    const a = p256().pub;
    const first = await cache.get(a);
    assert.equal(await cache.get({ ...a, use: 'enc' }), 'wrong_use');
    assert.equal(await cache.get({ ...a, use: 'enc' }), 'wrong_use');
    await cache.get(p256().pub);
    // Had the rejection taken a slot, the cache would have been full and started over.
    assert.equal(await cache.get(a), first);
  });

  it('starts over instead of growing past its bound', async () => {
    const cache = new PublicKeyCache(1);
    const a = p256().pub;
    const first = (await cache.get(a)) as ValidPublicKey;
    await cache.get(p256().pub);
    const again = (await cache.get(a)) as ValidPublicKey;
    assert.notEqual(again, first);
    assert.equal(again.jkt, first.jkt);
  });
});
