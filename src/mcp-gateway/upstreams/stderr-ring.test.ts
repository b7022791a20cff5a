import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StderrRing } from './stderr-ring.js';

describe('StderrRing', () => {
  it('keeps only the last bytes written', () => {
    const ring = new StderrRing(10);
    ring.write('hello ');
    ring.write('world, ');
    ring.write('again');
    assert.equal(ring.text(), 'rld, again');
    assert.equal(ring.byteLength, 10);
    ring.write(Buffer.from('0123456789abcdef'));
    assert.equal(ring.text(), '6789abcdef');
  });
});
