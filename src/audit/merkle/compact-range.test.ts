import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemorySource, RefTree, refLeafHash, refLeaves } from '../../../test/support/merkle-reference.js';
import { CT_LEAF_INPUTS, CT_NODES, CT_ROOTS } from '../../../test/support/merkle-vectors.js';
import { CompactRange } from './compact-range.js';
import { EMPTY_ROOT } from './hash.js';

describe('CompactRange', () => {
  it('holds the CT known frontier and root after each append', () => {
    const nh = CT_NODES;
    const frontiers = [
      [],
      [nh[0]![0]],
      [nh[1]![0]],
      [nh[1]![0], nh[0]![2]],
      [nh[2]![0]],
      [nh[2]![0], nh[0]![4]],
      [nh[2]![0], nh[1]![2]],
      [nh[2]![0], nh[1]![2], nh[0]![6]],
      [nh[3]![0]],
    ];
    const range = new CompactRange();
    assert.deepEqual(range.root(), EMPTY_ROOT);
    CT_LEAF_INPUTS.forEach((input, i) => {
      range.append(refLeafHash(input));
      assert.equal(range.size, i + 1);
      assert.deepEqual(range.hashes, frontiers[i + 1]);
      assert.deepEqual(range.root(), CT_ROOTS[i + 1]);
    });
  });

  it('has the naive MTH as its root at every size up to 1100', () => {
    const tree = new RefTree(refLeaves(1100));
    const range = new CompactRange();
    tree.leaves.forEach((leaf, i) => {
      range.append(leaf);
      assert.deepEqual(range.root(), tree.mth(0, i + 1), `size ${i + 1}`);
    });
  });

  it('reports every completed subtree at levels 0, 8 and 16, and nothing else', () => {
    const tree = new RefTree(refLeaves(70_000));
    const range = new CompactRange();
    const seen = new Map<number, Buffer[]>();
    for (const leaf of tree.leaves) {
      range.append(leaf, (level, index, hash) => {
        const row = seen.get(level) ?? [];
        assert.equal(index, row.length, `level ${level} reported in order`);
        row.push(hash);
        seen.set(level, row);
      });
    }
    assert.deepEqual([...seen.keys()], [0, 8, 16]);
    assert.equal(seen.get(0)!.length, 70_000);
    assert.equal(seen.get(8)!.length, Math.floor(70_000 / 256));
    assert.equal(seen.get(16)!.length, 1);
    seen.get(8)!.forEach((hash, i) => assert.deepEqual(hash, tree.mth(i * 256, (i + 1) * 256)));
    assert.deepEqual(seen.get(16)![0], tree.mth(0, 65_536));
    assert.deepEqual(range.root(), tree.mth());
  });

  it('rebuilds from a node source and keeps appending from there', async () => {
    const tree = new RefTree(refLeaves(70_000));
    for (const size of [0, 1, 255, 256, 4097, 65_536, 69_000]) {
      const source = new MemorySource(tree);
      const range = await CompactRange.fromSource(source, size);
      assert.equal(range.size, size);
      assert.deepEqual(range.root(), tree.mth(0, size), `size ${size}`);
      assert.ok(source.reads.every((r) => r.to - r.from <= 256));
      for (let i = size; i < size + 1000; i++) range.append(tree.leaves[i]!);
      assert.deepEqual(range.root(), tree.mth(0, size + 1000), `size ${size} + 1000`);
    }
  });

  it('rebuilds from the leaves where level 8 is missing', async () => {
    const tree = new RefTree(refLeaves(5000));
    const source = new MemorySource(tree, [0, 8], (level, index) => level === 8 && index > 10);
    assert.deepEqual((await CompactRange.fromSource(source, 4999)).root(), tree.mth(0, 4999));
  });

  it('keeps its state to itself', () => {
    const range = new CompactRange();
    const leaf = refLeafHash(Buffer.from('x'));
    range.append(leaf, (_level, _index, hash) => hash.fill(0));
    leaf.fill(0);
    range.hashes[0]!.fill(0);
    range.root().fill(0);
    assert.deepEqual(range.root(), refLeafHash(Buffer.from('x')));
  });

  it('refuses a frontier that does not match its size, and a leaf that is not a hash', () => {
    const h = Buffer.alloc(32);
    assert.throws(() => new CompactRange(3, [h]), TypeError);
    assert.throws(() => new CompactRange(1, []), TypeError);
    assert.throws(() => new CompactRange(1, [Buffer.alloc(31)]), TypeError);
    assert.throws(() => new CompactRange(-1, []), TypeError);
    assert.throws(() => new CompactRange().append(Buffer.alloc(33)), TypeError);
    assert.deepEqual(new CompactRange(3, [h, h]).size, 3);
  });
});
