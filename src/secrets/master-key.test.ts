import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { WardenError } from '../errors/warden-error.js';
import { loadMasterKey, masterKeyId, parseMasterKey } from './master-key.js';

function rejectsInvalid(fn: () => unknown, secretText: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WardenError, `expected a WardenError, got ${String(err)}`);
    assert.equal(err.code, 'MASTER_KEY_INVALID');
    if (secretText.trim()) assert.ok(!JSON.stringify({ m: err.message, d: err.details }).includes(secretText.trim()), 'the error must not carry the key');
    return true;
  });
}

describe('parseMasterKey', () => {
  const raw = randomBytes(32);

  it('accepts 32 bytes in base64 or base64url, padded or not, around whitespace', () => {
    for (const text of [
      raw.toString('base64'),
      raw.toString('base64').replace(/=+$/, ''),
      raw.toString('base64url'),
      `${raw.toString('base64url')}=`,
      `  ${raw.toString('base64url')}\n`,
    ]) {
      assert.deepEqual(parseMasterKey(text, 'env'), raw, text);
    }
  });

  it('rejects keys of the wrong length, foreign characters, mixed alphabets and non-canonical spellings', () => {
    const b64 = raw.toString('base64url');
    const cases = [
      '',
      '   ',
      randomBytes(16).toString('base64'),
      randomBytes(31).toString('base64'),
      randomBytes(33).toString('base64'),
      randomBytes(32).toString('hex'),
      `${b64.slice(0, 20)}!${b64.slice(21)}`,
      `${b64.slice(0, 20)} ${b64.slice(21)}`,
      // One character from each alphabet: no encoder writes that.
      `+${b64.slice(1, 20)}_${b64.slice(21)}`,
      `${b64}==`,
    ];
    // The last character of 43 carries two spare bits that an encoder leaves zero.
    const last = b64.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const bumped = alphabet[(alphabet.indexOf(last) & ~3) + (((alphabet.indexOf(last) & 3) + 1) & 3)]!;
    cases.push(`${b64.slice(0, -1)}${bumped}`);
    for (const text of cases) rejectsInvalid(() => parseMasterKey(text, 'env'), text);
  });
});

describe('masterKeyId', () => {
  it('is the first 16 hex digits of the SHA-256 of the key', () => {
    const raw = randomBytes(32);
    assert.equal(masterKeyId(raw), createHash('sha256').update(raw).digest('hex').slice(0, 16));
  });
});

describe('loadMasterKey', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-master-key-'));
    file = join(dir, 'keys', 'master.key');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a random key file with mode 0600 on first start, then loads the same key', async () => {
    const created = await loadMasterKey({ envValue: undefined, file });
    assert.equal(created.source, 'created');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'keys'))).mode & 0o777, 0o700);
    const again = await loadMasterKey({ envValue: undefined, file });
    assert.equal(again.source, 'file');
    assert.equal(again.keyId, created.keyId);
    assert.equal(created.key.symmetricKeySize, 32);
    assert.equal(masterKeyId(created.key.export()), created.keyId);
  });

  it('uses the environment over the key file, and creates no file then', async () => {
    const raw = randomBytes(32);
    const key = await loadMasterKey({ envValue: raw.toString('base64'), file });
    assert.equal(key.source, 'env');
    assert.equal(key.keyId, masterKeyId(raw));
    await assert.rejects(stat(file), { code: 'ENOENT' });
  });

  it('refuses a bad environment value, even an empty one, rather than falling back to the file', async () => {
    const good = await loadMasterKey({ envValue: undefined, file });
    for (const envValue of ['', 'not-a-key', randomBytes(24).toString('base64')]) {
      await assert.rejects(loadMasterKey({ envValue, file }), (err: unknown) => {
        return err instanceof WardenError && err.code === 'MASTER_KEY_INVALID' && err.details?.source === 'env';
      });
    }
    assert.equal((await loadMasterKey({ envValue: undefined, file })).keyId, good.keyId);
  });

  it('refuses a key file that does not hold a key, and leaves it as it is', async () => {
    await loadMasterKey({ envValue: undefined, file });
    const bad = randomBytes(16).toString('base64');
    await writeFile(file, bad);
    await assert.rejects(loadMasterKey({ envValue: undefined, file }), (err: unknown) => {
      return err instanceof WardenError && err.code === 'MASTER_KEY_INVALID' && err.details?.source === 'file';
    });
    assert.equal(await readFile(file, 'utf8'), bad);
  });

  it('agrees on one key when several processes create it at once', async () => {
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadMasterKey({ envValue: undefined, file })));
    assert.equal(new Set(keys.map((k) => k.keyId)).size, 1);
  });
});
