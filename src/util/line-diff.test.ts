import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineDiff } from './line-diff.js';

describe('lineDiff', () => {
  it('marks removed and added lines around the common ones', () => {
    assert.deepEqual(lineDiff('a\nb\nc', 'a\nx\nc\nd'), ['  a', '- b', '+ x', '  c', '+ d']);
  });

  it('shows identical texts as unchanged', () => {
    assert.deepEqual(lineDiff('one\ntwo', 'one\ntwo'), ['  one', '  two']);
  });

  it('falls back to whole texts past the line bound', () => {
    assert.deepEqual(lineDiff('a\nb', 'c', 1), ['- a', '- b', '+ c']);
  });
});
