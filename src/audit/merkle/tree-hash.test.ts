import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { MemorySource, RefTree, refLeafHash, refLeaves } from '../../../test/support/merkle-reference.js';
import { CT_LEAF_INPUTS, CT_NODES, CT_ROOTS } from '../../../test/support/merkle-vectors.js';
import { EMPTY_ROOT, leafHash, nodeHash } from './hash.js';
import { NodeUnavailable, type NodeSource } from './node-source.js';
import { subtreeHash, treeRoot } from './tree-hash.js';

const ctTree = new RefTree(CT_LEAF_INPUTS.map(refLeafHash));

describe('leafHash, nodeHash and EMPTY_ROOT', () => {
  it('match the CT known answers', () => {
    assert.deepEqual(EMPTY_ROOT, createHash('sha256').digest());
    assert.deepEqual(EMPTY_ROOT, CT_ROOTS[0]);
    CT_LEAF_INPUTS.forEach((input, i) => assert.deepEqual(leafHash(input), CT_NODES[0]![i]));
    assert.deepEqual(nodeHash(CT_NODES[0]![0]!, CT_NODES[0]![1]!), CT_NODES[1]![0]);
  });
});

describe('treeRoot', () => {
  it('gives the CT known roots for sizes 0 to 8', async () => {
    const source = new MemorySource(ctTree, [0]);
    for (let size = 0; size <= 8; size++) assert.deepEqual(await treeRoot(source, size), CT_ROOTS[size], `size ${size}`);
  });

  it('equals the naive recursive MTH for every size up to 600', async () => {
    const tree = new RefTree(refLeaves(600));
    const source = new MemorySource(tree, [0, 8]);
    for (let size = 0; size <= 600; size++) assert.deepEqual(await treeRoot(source, size), tree.mth(0, size), `size ${size}`);
  });

  it('equals the naive MTH at large sizes, reading few batches of at most 256 hashes', async () => {
    const tree = new RefTree(refLeaves(70_000));
    for (const size of [1000, 4097, 65_536, 65_537, 70_000]) {
      const source = new MemorySource(tree);
      assert.deepEqual(await treeRoot(source, size), tree.mth(0, size), `size ${size}`);
      assert.ok(source.reads.every((r) => r.to - r.from <= 256));
      assert.ok(source.reads.length <= 3, `${source.reads.length} reads at size ${size}`);
    }
  });

  it('hands out a copy of the empty root', async () => {
    const root = await treeRoot(new MemorySource(ctTree), 0);
    root.fill(0);
    assert.deepEqual(EMPTY_ROOT, CT_ROOTS[0]);
  });

  it('refuses a size that is not a safe whole number', async () => {
    const source = new MemorySource(ctTree);
    for (const size of [-1, 1.5, Number.NaN, 2 ** 53]) await assert.rejects(treeRoot(source, size), TypeError);
  });
});

describe('subtreeHash', () => {
  const tree = new RefTree(refLeaves(70_000));

  it('reads one batch of 2^(level - stored) hashes from the highest stored level', async () => {
    const source = new MemorySource(tree);
    assert.deepEqual(await subtreeHash(source, 12, 3), tree.mth(3 * 4096, 4 * 4096));
    assert.deepEqual(source.reads, [{ level: 8, from: 48, to: 64 }]);
    assert.deepEqual(await subtreeHash(source, 16, 0), tree.mth(0, 65_536));
    assert.deepEqual(await subtreeHash(source, 5, 7), tree.mth(7 * 32, 8 * 32));
    assert.deepEqual(source.reads.slice(1), [
      { level: 16, from: 0, to: 1 },
      { level: 0, from: 224, to: 256 },
    ]);
  });

  it('falls back to level 0 where level 8 is missing', async () => {
    const source = new MemorySource(tree, [0, 8, 16], (level, index) => level === 8 && index >= 2 && index < 4);
    assert.deepEqual(await subtreeHash(source, 8, 3), tree.mth(3 * 256, 4 * 256));
    assert.deepEqual(source.reads, [
      { level: 8, from: 3, to: 4 },
      { level: 0, from: 768, to: 1024 },
    ]);
    assert.deepEqual(await subtreeHash(source, 10, 0), tree.mth(0, 1024));
  });

  it('falls back two levels when both 16 and 8 are missing', async () => {
    const source = new MemorySource(tree, [0, 8, 16], (level, index) => level === 16 || (level === 8 && index === 100));
    assert.deepEqual(await subtreeHash(source, 16, 0), tree.mth(0, 65_536));
    assert.deepEqual(
      source.reads.map((r) => r.level),
      [16, 8, 0],
    );
  });

  it('throws the source’s NodeUnavailable when the leaves themselves are missing', async () => {
    const source = new MemorySource(tree, [0, 8], (level, index) => level === 0 || (level === 8 && index === 1));
    await assert.rejects(subtreeHash(source, 8, 1), (err: unknown) => err instanceof NodeUnavailable && err.level === 0);
    await assert.rejects(subtreeHash(source, 9, 0), NodeUnavailable);
  });

  it('does not mistake a failing source for a missing level', async () => {
    const failing: NodeSource = {
      storedLevels: [0, 8],
      nodes: async () => {
        throw new Error('connection reset');
      },
    };
    await assert.rejects(subtreeHash(failing, 8, 0), { message: 'connection reset' });
  });

  it('refuses a source that answers with the wrong number of hashes', async () => {
    const short: NodeSource = { storedLevels: [0], nodes: async (_l, from, to) => refLeaves(to - from - 1) };
    await assert.rejects(subtreeHash(short, 3, 0), TypeError);
  });

  it('refuses stored levels that are not multiples of 8 or lack level 0', async () => {
    const nodes = async (): Promise<Buffer[]> => [];
    await assert.rejects(subtreeHash({ storedLevels: [0, 4], nodes }, 4, 0), TypeError);
    await assert.rejects(subtreeHash({ storedLevels: [8], nodes }, 8, 0), TypeError);
  });
});
