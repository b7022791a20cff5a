import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractValues } from './extract.js';
import { ProvenanceLedger } from './ledger.js';
import { extractWords } from './words.js';

const MB = 1 << 20;
const fill = (unit: string): string => unit.repeat(Math.ceil(MB / unit.length));

// Each input aims at one pattern's worst case: long runs of the characters it may repeat over,
// with the character it needs next missing, or many starts in a row. A pattern that
// backtracks more than linearly would not finish these; no time limit is asserted, since a
// slow machine is not a bug, but a hang fails the run.
const ADVERSARIAL: Record<string, string> = {
  'one letter': fill('a'),
  'address local parts without a host': fill('a.'),
  'at signs between letters': fill('a@'),
  'dotted labels': fill('a-b.c-d.'),
  'digits': fill('1'),
  'digits and spaces': fill('1 '),
  'plus signs and parentheses': fill('(+1 '),
  'IBAN prefixes': fill('AB12 '),
  'schemes': fill('http://'),
  'closing parentheses after a scheme': fill(`http://${')'.repeat(2040)}`),
  'mentions': fill('@a'),
  'party lines': fill('to: x\n'),
  'a party line without end': `to: ${fill('x')}`,
  'defanging markers': fill('[.]'),
  'zero-width characters': fill('a\u200b'),
  'mixed values': fill('x@y.example.com https://a.example/c 4000-1234-5678-9010 +44 20 '),
  'JSON in a string': `{"to":"${fill('a')}"}`,
};

describe('extraction on adversarial input', () => {
  for (const [name, text] of Object.entries(ADVERSARIAL)) {
    it(`finishes on 1 MB of ${name}`, () => {
      assert.ok(Array.isArray(extractValues(text)));
      assert.ok(Array.isArray(extractWords(text)));
    });
  }

  it('observes and classifies a 1 MB result and argument', () => {
    const ledger = new ProvenanceLedger();
    ledger.observeContent(ADVERSARIAL['mixed values'], 'untrusted');
    const result = ledger.classify({ body: ADVERSARIAL['mixed values']! });
    assert.deepEqual(result.fromUntrusted, ['body']);
  });
});
