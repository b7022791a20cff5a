import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { ALNUM, checksummed, pick, pickMixed } from '../../test/support/fake-secrets.js';
import { base62, crc32, isJwtHeader, isPlaceholder, looksLikeSecretValue, prefixedTokenChecksumOk, shannonEntropy } from './validators.js';

describe('validators', () => {
  it('computes the same CRC-32 as zlib', (t) => {
    const zcrc = (zlib as { crc32?: (s: string) => number }).crc32;
    if (!zcrc) return t.skip('zlib.crc32 needs Node 20.15');
    for (const s of ['', 'a', '123456789', pick(ALNUM, 30)]) assert.equal(crc32(s), zcrc(s));
  });

  it('writes base 62 with digits, then upper, then lower case, zero-padded', () => {
    assert.equal(base62(0, 6), '000000');
    assert.equal(base62(61, 2), '0z');
    assert.equal(base62(62, 1), '10');
    assert.equal(base62(0xffffffff, 6), '4gfFC3');
  });

  it('accepts a token whose checksum holds and rejects one whose checksum does not', () => {
    const token = checksummed('ghp_');
    assert.equal(prefixedTokenChecksumOk(token), true);
    assert.equal(prefixedTokenChecksumOk(`${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`), false);
  });

  it('measures entropy in bits per character', () => {
    assert.equal(shannonEntropy(''), 0);
    assert.equal(shannonEntropy('aaaa'), 0);
    assert.equal(shannonEntropy('abcd'), 2);
    assert.equal(shannonEntropy('ééaa'), 1);
  });

  it('recognises a JWT header only when it is a JSON object with alg', () => {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    assert.equal(isJwtHeader(enc({ alg: 'HS256' })), true);
    assert.equal(isJwtHeader(enc({ typ: 'JWT' })), false);
    assert.equal(isJwtHeader(enc(['alg'])), false);
    assert.equal(isJwtHeader('eyJub3QganNvbg'), false);
  });

  it('treats placeholders, templates and its own markers as no secret', () => {
    for (const v of ['changeme', '********', '${DB_PASSWORD}', '{{ vault.pw }}', '<password>', '[REDACTED:jwt]', 'process.env.TOKEN', 'aaaaaaaaaa']) {
      assert.equal(isPlaceholder(v), true, v);
    }
    assert.equal(isPlaceholder(pick(ALNUM, 20)), false);
  });

  it('judges assigned values: random-looking yes; words, paths, numbers and URLs no', () => {
    assert.equal(looksLikeSecretValue(pickMixed(ALNUM, 24, true)), true);
    for (const v of ['production', 'strict-mode', '/etc/app/secret.key', 'https://vault.internal/v1', '2024-01-01', 'hunter2', 'options.privateKey', 'm.indices?.groups?.']) {
      assert.equal(looksLikeSecretValue(v), false, v);
    }
  });
});
