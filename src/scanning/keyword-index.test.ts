import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DETECTORS, type Detector } from './detectors.js';
import { KeywordIndex } from './keyword-index.js';

const detector = (id: string, regex: RegExp, keywords?: string[]): Detector => ({ id, description: id, confidence: 'high', regex, ...(keywords ? { keywords } : {}) });

/** What the index must answer: a keyword occurs as it is (case-insensitive regex: in the lower-cased text). */
function bruteForce(detectors: readonly Detector[], text: string): number[] {
  const lower = text.toLowerCase();
  return detectors.map((d) => (!d.keywords || d.keywords.some((k) => (d.regex.ignoreCase ? lower : text).includes(k)) ? 1 : 0));
}

describe('KeywordIndex', () => {
  it('lets a detector without keywords always run, and one with keywords only when one occurs', () => {
    const ds = [detector('a', /x/g), detector('b', /tok_\w+/g, ['tok_']), detector('c', /key=\w+/gi, ['key='])];
    const index = new KeywordIndex(ds);
    assert.deepEqual([...index.mayMatch('nothing here')], [1, 0, 0]);
    assert.deepEqual([...index.mayMatch('a tok_123')], [1, 1, 0]);
    assert.deepEqual([...index.mayMatch('TOK_123 KEY=abc')], [1, 0, 1], 'case-sensitive keywords keep their case; folded ones do not');
    assert.deepEqual([...index.mayMatch('tok_')], [1, 1, 0], 'a keyword at the very end');
    assert.deepEqual([...index.mayMatch('key')], [1, 0, 0], 'a keyword cut short by the end');
    assert.deepEqual([...index.mayMatch('')], [1, 0, 0]);
    assert.deepEqual([...index.mayMatch('ключ key=1 é')], [1, 0, 1], 'text beyond ASCII around a keyword');
  });

  it('refuses keywords it cannot index', () => {
    assert.throws(() => new KeywordIndex([detector('x', /k/g, ['k'])]), TypeError);
    assert.throws(() => new KeywordIndex([detector('x', /é1/g, ['é1'])]), TypeError);
    assert.throws(() => new KeywordIndex([detector('x', /key=/gi, ['Key='])]), /lower-case/);
    assert.throws(() => new KeywordIndex([detector('x', /key=/g, [])]), /none given/);
  });

  it("answers as a search for each keyword would, for the built-in detectors, on texts made of their keywords' pieces", () => {
    const keywords = DETECTORS.flatMap((d) => d.keywords ?? []);
    const pieces = [...keywords, ...keywords.map((k) => k.toUpperCase()), ...keywords.map((k) => k.slice(0, -1)), ...keywords.map((k) => k.slice(1)), ' ', 'x', 'é', '\n', ':', '_'];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const index = new KeywordIndex(DETECTORS);
    for (let t = 0; t < 2000; t++) {
      const text = Array.from({ length: 1 + rand(12) }, () => pieces[rand(pieces.length)]).join('');
      assert.deepEqual([...index.mayMatch(text)], bruteForce(DETECTORS, text), JSON.stringify(text));
    }
  });
});
