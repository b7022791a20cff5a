import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { argumentWords, extractWords } from './words.js';

describe('extractWords', () => {
  it('indexes case-folded words of three or more characters, with letters', () => {
    assert.deepEqual(extractWords('Invite Quentin to the Lounge at 10 on 2024'), ['invite', 'quentin', 'the', 'lounge']);
  });

  it('indexes joined words whole and by part', () => {
    assert.deepEqual(extractWords("quentin.roe o'Neil jean-luc."), ['quentin.roe', 'quentin', 'roe', "o'neil", 'neil', 'jean-luc', 'jean', 'luc']);
  });

  it('takes words from every string of a JSON value, not from keys', () => {
    assert.deepEqual(extractWords({ Secretkey: ['Mirela', { note: 'Lounge' }], count: 5 }), ['mirela', 'lounge']);
  });

  it('skips blobs longer than any word', () => {
    assert.deepEqual(extractWords(`token ${'Ab1'.repeat(200)} end`), ['token', 'end']);
  });

  it('stops at the limit', () => {
    assert.equal(extractWords('alpha bravo delta echo foxtrot', 3).length, 3);
  });
});

describe('argumentWords', () => {
  it('gives the words of a short argument', () => {
    assert.deepEqual(argumentWords('Quentin', 1), ['quentin']);
    assert.deepEqual(argumentWords(' @Quentin ', 1), ['quentin']);
    assert.deepEqual(argumentWords('Otto Example', 4), ['otto', 'example']);
  });

  it('refuses arguments that are not a few plain words', () => {
    assert.equal(argumentWords('Otto Example', 1), null);
    assert.equal(argumentWords('hello, world', 4), null);
    assert.equal(argumentWords('a b c d e', 4), null);
    assert.equal(argumentWords('', 1), null);
  });

  it('keeps short words out of the lookup', () => {
    assert.deepEqual(argumentWords('Al', 1), []);
  });
});
