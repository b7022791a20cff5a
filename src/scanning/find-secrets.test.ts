import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeSpans, redactSpans, type Span } from './find-secrets.js';

const span = (detector: string, start: number, end: number, rank: number, weak = false): Span => ({ detector, start, end, rank, ...(weak ? { weak } : {}) });
const shape = (spans: Span[]) => spans.map((s) => `${s.detector}@${s.start}-${s.end}`);

describe('mergeSpans', () => {
  it('joins overlapping spans under the higher-ranked detector and keeps touching ones apart', () => {
    const merged = mergeSpans([span('b', 5, 15, 2), span('a', 0, 10, 1), span('c', 15, 20, 3), span('d', 30, 31, 4), span('e', 30, 40, 0)]);
    assert.deepEqual(shape(merged), ['a@0-15', 'c@15-20', 'e@30-40']);
  });

  it('drops a weak span that overlaps a specific one, and keeps weak spans that overlap none', () => {
    const merged = mergeSpans([span('url-password', 10, 20, 2), span('generic', 5, 40, 9, true), span('generic', 50, 60, 9, true), span('generic', 55, 70, 9, true)]);
    assert.deepEqual(shape(merged), ['url-password@10-20', 'generic@50-70']);
  });
});

describe('redactSpans', () => {
  it('replaces each span with its marker and keeps the text between', () => {
    assert.equal(redactSpans('ab SECRET cd OTHER', [span('x', 3, 9, 1), span('y', 13, 18, 1)]), 'ab [REDACTED:x] cd [REDACTED:y]');
  });
});
