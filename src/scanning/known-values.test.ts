import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { ALNUM, b64url, pick, pickMixed, randomBytes } from '../../test/support/fake-secrets.js';
import { compileKnownValues, encodingsOf, isKnownValues, MIN_KNOWN_VALUE_LENGTH } from './known-values.js';
import { LiteralSet } from './literal-set.js';

/** A secret with the characters that encoders treat differently: `/ + = ! * ' ( ) "` and non-ASCII. */
const awkwardSecret = (): string => `${pickMixed(ALNUM, 12, true)}/+=!*'()"é${b64url(9)}`;

describe('LiteralSet', () => {
  it('finds every occurrence of every pattern, overlapping ones included', () => {
    const set = new LiteralSet(['abcdefgh', 'cdefghij', 'zzzzzzzz']);
    const found = set.findAll('xxabcdefghijxx abcdefgh').map((m) => [set.pattern(m.pattern), m.start, m.end]);
    assert.deepEqual(found, [
      ['abcdefgh', 2, 10],
      ['cdefghij', 4, 12],
      ['abcdefgh', 15, 23],
    ]);
  });

  it('tells apart patterns that share their first eight characters', () => {
    const set = new LiteralSet(['prefix00-one', 'prefix00-two', 'prefix00']);
    const found = set.findAll('..prefix00-two..').map((m) => set.pattern(m.pattern)).sort();
    assert.deepEqual(found, ['prefix00', 'prefix00-two']);
  });

  it('finds a pattern at the very end of the text and nothing in text shorter than a pattern', () => {
    const set = new LiteralSet(['12345678']);
    assert.deepEqual(set.findAll('ab12345678').map((m) => m.start), [2]);
    assert.deepEqual(set.findAll('1234567'), []);
  });

  it('finds exactly what a naive search finds, over random sets and texts with many near matches', () => {
    // A 3-letter alphabet makes partial matches and overlaps common: any shift that skips too
    // far shows up as a missed match.
    for (let round = 0; round < 200; round++) {
      const patterns = [...new Set(Array.from({ length: 1 + randomInt(12) }, () => pick('abc', 8 + randomInt(12))))];
      let text = pick('abc', randomInt(400));
      for (const p of patterns) if (randomInt(2) === 0) text = text.slice(0, randomInt(text.length + 1)) + p + text.slice(randomInt(text.length + 1));
      const naive: string[] = [];
      for (let i = 0; i < text.length; i++) patterns.forEach((p, k) => text.startsWith(p, i) && naive.push(`${k}@${i}`));
      const set = new LiteralSet(patterns);
      const found = set.findAll(text).map((m) => `${m.pattern}@${m.start}`);
      assert.deepEqual(found.sort(), naive.sort(), `round ${round}`);
    }
  });

  it('refuses patterns shorter than its window', () => {
    assert.throws(() => new LiteralSet(['short']), TypeError);
  });
});

describe('compileKnownValues', () => {
  it('finds a value in every encoding it lists, inside surrounding text', () => {
    const secret = awkwardSecret();
    const known = compileKnownValues([secret]);
    const variants = encodingsOf(secret);
    assert.ok(variants.length >= 8);
    for (const [encoding, text] of variants) {
      const hits = known.find(`before ${text} after`);
      assert.ok(
        hits.some((h) => h.start === 7 && h.end === 7 + text.length),
        `${encoding} spelling not found`,
      );
    }
  });

  it('finds a value spelled each common way: raw, JSON, URL, hex, base64, base64url', () => {
    const secret = awkwardSecret();
    const known = compileKnownValues([secret]);
    // base64 and base64url spell the same when the bytes give no `+` or `/`; either name is right.
    const spelled: [string[], string][] = [
      [['raw'], secret],
      [['json'], JSON.stringify({ v: secret })],
      [['json'], JSON.stringify(JSON.stringify({ v: secret }))],
      [['url'], `https://x.example/?token=${encodeURIComponent(secret)}`],
      [['hex'], Buffer.from(secret).toString('hex')],
      [['hex'], Buffer.from(secret).toString('hex').toUpperCase()],
      [['base64'], Buffer.from(secret).toString('base64')],
      [['base64url', 'base64'], Buffer.from(secret).toString('base64url')],
    ];
    for (const [encodings, text] of spelled) {
      const hits = known.find(text);
      assert.ok(hits.some((h) => encodings.includes(h.encoding)), `${encodings[0]}: ${hits.map((h) => h.encoding).join(',') || 'nothing'}`);
    }
  });

  it('finds a value inside a longer base64 text at each byte offset (Basic auth, encoded files)', () => {
    const secret = pickMixed(ALNUM, 24, true);
    const known = compileKnownValues([secret]);
    for (const prefix of ['', 'u', 'us', 'user:', 'deploy:']) {
      const encoded = Buffer.from(`${prefix}${secret}\n`).toString('base64');
      const hits = known.find(`Authorization: Basic ${encoded}`);
      assert.ok(hits.some((h) => h.encoding === 'base64'), `prefix ${JSON.stringify(prefix)}`);
    }
  });

  it('ignores values shorter than the minimum and reports how many it searches for', () => {
    const known = compileKnownValues(['short', 'x'.repeat(MIN_KNOWN_VALUE_LENGTH - 1), pick(ALNUM, 32), pick(ALNUM, 32)]);
    assert.equal(known.values, 2);
    assert.deepEqual(known.find('short and more short text'), []);
  });

  it('builds once for 50 secrets and searches 1 MB quickly', () => {
    const secrets = Array.from({ length: 50 }, () => randomBytes(24).toString('base64url'));
    const t0 = performance.now();
    const known = compileKnownValues(secrets);
    const built = performance.now() - t0;
    const text = `${'lorem ipsum dolor sit amet, '.repeat(37_000)}${secrets[17]}`;
    const t1 = performance.now();
    const hits = known.find(text);
    const searched = performance.now() - t1;
    assert.equal(hits.length, 1);
    assert.ok(built < 200, `build took ${built.toFixed(0)} ms`);
    assert.ok(searched < 200, `search took ${searched.toFixed(0)} ms`);
  });

  it('recognises only matchers it compiled', () => {
    assert.equal(isKnownValues(compileKnownValues([])), true);
    assert.equal(isKnownValues({ find: () => [] }), false);
  });
});
