import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCanonicalB64u, parseCompactJws, parseJsonObject } from './compact.js';

const b64u = (data: string | Buffer): string => Buffer.from(data).toString('base64url');
const header = (json: string): string => b64u(json);
const SIG = b64u(Buffer.alloc(64, 7));
const token = (h: string, p = b64u('foo'), s = SIG): string => `${h}.${p}.${s}`;
const ES256 = header('{"alg":"ES256"}');

describe('decodeCanonicalB64u', () => {
  it('decodes unpadded base64url', () => {
    assert.deepEqual(decodeCanonicalB64u('Zm9v'), Buffer.from('foo'));
    assert.deepEqual(decodeCanonicalB64u('-_8'), Buffer.from([0xfb, 0xff]));
  });

  it('decodes the empty segment to no bytes', () => {
    assert.deepEqual(decodeCanonicalB64u(''), Buffer.alloc(0));
  });

  // "AB" is 12 bits for one byte: the 4 unused bits of "B" (000001) are not zero, so the same
  // byte 0x00 has a second spelling. Only "AA" is canonical (RFC 4648 §3.5).
  it('rejects non-zero unused bits in the last character', () => {
    assert.deepEqual(decodeCanonicalB64u('AA'), Buffer.from([0x00]));
    assert.equal(decodeCanonicalB64u('AB'), null);
    assert.deepEqual(decodeCanonicalB64u('AAE'), Buffer.from([0x00, 0x01]));
    assert.equal(decodeCanonicalB64u('AAF'), null);
  });

  it('rejects padding', () => {
    assert.equal(decodeCanonicalB64u('Zm8='), null);
    assert.equal(decodeCanonicalB64u('AA=='), null);
  });

  it('rejects the standard base64 characters + and /', () => {
    assert.equal(decodeCanonicalB64u('ab+c'), null);
    assert.equal(decodeCanonicalB64u('ab/c'), null);
  });

  it('rejects whitespace anywhere in the segment', () => {
    for (const s of [' Zm9v', 'Zm9v ', 'Zm 9v', 'Zm9v\n', '\tZm9v']) assert.equal(decodeCanonicalB64u(s), null, JSON.stringify(s));
  });

  it('rejects a length that no byte string encodes to', () => {
    assert.equal(decodeCanonicalB64u('Zm9vY'), null);
  });
});

describe('parseJsonObject', () => {
  const parse = (text: string) => parseJsonObject(Buffer.from(text, 'utf8'));

  it('returns the object of a JSON object', () => {
    assert.deepEqual(parse('{"alg":"ES256","typ":"dpop+jwt"}'), { alg: 'ES256', typ: 'dpop+jwt' });
    assert.deepEqual(parse(' { } '), {});
  });

  it('rejects JSON that is not an object', () => {
    for (const text of ['[]', '[{"alg":"ES256"}]', '"ES256"', '42', 'null', 'true']) assert.equal(parse(text), null, text);
  });

  it('rejects text that is not JSON', () => {
    for (const text of ['', '{', "{'alg':'ES256'}", '{"alg":"ES256",}']) assert.equal(parse(text), null, text);
  });

  it('rejects invalid UTF-8', () => {
    // {"a":"<0xff>"} and an overlong encoding of "/" (0xc0 0xaf).
    assert.equal(parseJsonObject(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])), null);
    assert.equal(parseJsonObject(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d])), null);
  });

  it('rejects duplicate top-level member names', () => {
    assert.equal(parse('{"alg":"ES256","alg":"none"}'), null);
    assert.equal(parse('{"alg":"ES256","typ":"x","alg":"none"}'), null);
  });

  it('rejects a duplicate that is spelled with a JSON escape', () => {
    assert.equal(parse('{"alg":"ES256","\\u0061lg":"none"}'), null);
  });

  it('rejects a duplicate that follows a nested object or array', () => {
    assert.equal(parse('{"jwk":{"kty":"EC"},"jwk":{"kty":"OKP"}}'), null);
    assert.equal(parse('{"crit":["a","b"],"crit":[]}'), null);
  });

  it('allows repeated names inside nested objects', () => {
    const value = parse('{"jwk":{"x":"1","x":"2"},"list":[{"k":1,"k":2}],"alg":"ES256"}');
    assert.notEqual(value, null);
    assert.deepEqual(value, { jwk: { x: '2' }, list: [{ k: 2 }], alg: 'ES256' });
  });

  it('reads escaped quotes inside strings as part of the string', () => {
    assert.deepEqual(parse('{"a\\"b":"c\\",\\"d","e":1}'), { 'a"b': 'c","d', e: 1 });
    assert.deepEqual(parse('{"path":"C:\\\\","next":1}'), { path: 'C:\\', next: 1 });
  });

  it('is not fooled by a member name hidden behind an escaped quote', () => {
    // The first value is the string `x","k":"y`; the real second "k" is a duplicate.
    assert.equal(parse('{"k":"x\\",\\"k\\":\\"y","k":2}'), null);
    // A value ending in an escaped backslash closes normally; the "a" after it is a duplicate.
    assert.equal(parse('{"a":"\\\\","a":1}'), null);
  });

  it('counts braces and commas inside strings as text', () => {
    assert.deepEqual(parse('{"a":"{,[","b":"}]"}'), { a: '{,[', b: '}]' });
  });
});

describe('parseCompactJws', () => {
  it('splits and decodes the three segments', () => {
    const jws = parseCompactJws(token(ES256), 1000);
    assert.notEqual(typeof jws, 'string');
    if (typeof jws === 'string') return;
    assert.deepEqual(jws.header, { alg: 'ES256' });
    assert.deepEqual(jws.payload, Buffer.from('foo'));
    assert.deepEqual(jws.signature, Buffer.alloc(64, 7));
    assert.equal(jws.signingInput, `${ES256}.${b64u('foo')}`);
  });

  it('accepts an empty payload (RFC 7515 allows it)', () => {
    const jws = parseCompactJws(token(ES256, ''), 1000);
    assert.notEqual(typeof jws, 'string');
    if (typeof jws !== 'string') assert.equal(jws.payload.length, 0);
  });

  it('rejects a value that is not a string', () => {
    for (const v of [undefined, null, 42, ['a.b.c'], { token: 'a.b.c' }]) assert.equal(parseCompactJws(v, 1000), 'malformed');
  });

  it('rejects the wrong number of segments', () => {
    assert.equal(parseCompactJws(`${ES256}.${b64u('foo')}`, 1000), 'malformed');
    assert.equal(parseCompactJws(`${token(ES256)}.`, 1000), 'malformed');
    assert.equal(parseCompactJws(`${token(ES256)}.${SIG}.${SIG}`, 1000), 'malformed');
    assert.equal(parseCompactJws('', 1000), 'malformed');
  });

  it('rejects an empty header or an empty signature', () => {
    assert.equal(parseCompactJws(token('', b64u('foo')), 1000), 'malformed');
    assert.equal(parseCompactJws(token(ES256, b64u('foo'), ''), 1000), 'malformed');
  });

  it('rejects a token longer than the limit before looking inside it', () => {
    const t = token(ES256);
    assert.notEqual(typeof parseCompactJws(t, t.length), 'string');
    assert.equal(parseCompactJws(t, t.length - 1), 'too_large');
    assert.equal(parseCompactJws('x'.repeat(101), 100), 'too_large');
  });

  it('rejects a header that is not a JSON object', () => {
    for (const json of ['[]', '"ES256"', 'null', '{"alg":']) assert.equal(parseCompactJws(token(header(json)), 1000), 'malformed', json);
  });

  it('rejects a header that is not UTF-8', () => {
    const h = b64u(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]));
    assert.equal(parseCompactJws(token(h), 1000), 'malformed');
  });

  it('rejects a header with duplicate member names', () => {
    assert.equal(parseCompactJws(token(header('{"alg":"ES256","alg":"none"}')), 1000), 'malformed');
  });

  it('rejects non-canonical base64url in any segment', () => {
    assert.equal(parseCompactJws(token(ES256, 'AB'), 1000), 'malformed');
    assert.equal(parseCompactJws(token(`${ES256}=`), 1000), 'malformed');
    assert.equal(parseCompactJws(token(ES256, 'Zm8='), 1000), 'malformed');
    assert.equal(parseCompactJws(token(ES256, b64u('foo'), `${SIG.slice(0, -1)}+`), 1000), 'malformed');
  });

  it('rejects whitespace around or inside a segment', () => {
    assert.equal(parseCompactJws(token(`${ES256}    `), 1000), 'malformed');
    assert.equal(parseCompactJws(token(ES256, `    ${b64u('foo')}`), 1000), 'malformed');
    assert.equal(parseCompactJws(token(ES256, b64u('foo'), ` ${SIG}`), 1000), 'malformed');
    assert.equal(parseCompactJws(`${token(ES256)}\n`, 1000), 'malformed');
  });
});
