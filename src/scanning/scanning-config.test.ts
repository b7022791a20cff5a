import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unsafePatternReason } from './pattern-safety.js';
import { extraPatternProblem, ScanningConfigSchema } from './scanning-config.js';

const parse = (v: unknown) => ScanningConfigSchema.safeParse(v);
const messages = (v: unknown): string[] => {
  const r = parse(v);
  return r.success ? [] : r.error.issues.map((i) => i.message);
};

describe('ScanningConfigSchema', () => {
  it('defaults to redacting results and blocking arguments', () => {
    assert.deepEqual(ScanningConfigSchema.parse({}), { results: 'redact', arguments: 'block', disabled: [], extraPatterns: [] });
  });

  it('rejects unknown keys, unknown modes and unknown detector ids', () => {
    assert.equal(parse({ result: 'off' }).success, false);
    assert.equal(parse({ results: 'warn' }).success, false);
    assert.equal(parse({ disabled: ['github-tokens'] }).success, false);
  });

  it('does not let known values or scan limits be disabled', () => {
    assert.equal(parse({ disabled: ['known-value'] }).success, false);
    assert.equal(parse({ disabled: ['scan-limit'] }).success, false);
    assert.equal(parse({ disabled: ['jwt', 'generic-secret-assignment'] }).success, true);
  });

  it('accepts a well-formed extra pattern, with or without a secret group', () => {
    assert.equal(parse({ extraPatterns: [{ id: 'acme-key', regex: 'acme_[0-9a-f]{32}' }, { id: 'acme-pin', regex: 'pin=(?<secret>[0-9]{6})' }] }).success, true);
  });

  it('rejects extra patterns that do not compile or are too long', () => {
    assert.deepEqual(messages({ extraPatterns: [{ id: 'x', regex: 'acme_(' }] }), ['does not compile as a JavaScript regular expression']);
    assert.equal(parse({ extraPatterns: [{ id: 'x', regex: 'a'.repeat(513) }] }).success, false);
    assert.equal(parse({ extraPatterns: [{ id: 'x', regex: '' }] }).success, false);
  });

  it('rejects extra patterns that match the empty string', () => {
    for (const regex of ['a*', 'x|', '(?:)', '\\b', '(?=a)', '(?<secret>[0-9]*)x?', '^', '[a-z]{0,3}']) {
      assert.deepEqual(messages({ extraPatterns: [{ id: 'x', regex }] }), ['matches the empty string'], regex);
    }
  });

  it('rejects extra patterns that can backtrack catastrophically', () => {
    for (const regex of ['(a+)+$', '(?:ab*)*c', '(\\w+\\s?)*x', '((ab)*c)+', '(a*)*b', '(.*a){5}']) {
      assert.match(messages({ extraPatterns: [{ id: 'x', regex }] })[0] ?? '', /nested quantifiers/, regex);
    }
    assert.match(extraPatternProblem('(a)x\\1') ?? '', /backreferences/);
    assert.match(extraPatternProblem('(?<n>a)x\\k<n>') ?? '', /backreferences/);
  });

  it('rejects ids that clash with built-ins, repeat, or are not kebab-case', () => {
    assert.equal(parse({ extraPatterns: [{ id: 'jwt', regex: 'x{3}' }] }).success, false);
    assert.equal(parse({ extraPatterns: [{ id: 'known-value', regex: 'x{3}' }] }).success, false);
    assert.equal(parse({ extraPatterns: [{ id: 'a', regex: 'x{3}' }, { id: 'a', regex: 'y{3}' }] }).success, false);
    assert.equal(parse({ extraPatterns: [{ id: 'Acme Key', regex: 'x{3}' }] }).success, false);
  });
});

describe('unsafePatternReason', () => {
  it('passes bounded and single-level quantifiers, classes and group syntax', () => {
    for (const ok of ['acme_[0-9a-f]{32}', '(?:ab)+c', '(?<secret>[A-Z]{4})-(?:[0-9]{2})?', '[(+*)]+', '\\(a+\\)+', '(?<=x)y+', '(a+)?b', '(ab){1}c+']) {
      assert.equal(unsafePatternReason(ok), null, ok);
    }
  });
});
