import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemorySource, RefTree, refLeafHash, refLeaves } from '../../../test/support/merkle-reference.js';
import { CT_INCLUSION, CT_LEAF_INPUTS, CT_ROOTS } from '../../../test/support/merkle-vectors.js';
import { EMPTY_ROOT } from './hash.js';
import { inclusionProof, verifyInclusion } from './inclusion-proof.js';

const flip = (proof: readonly Buffer[], i: number): Buffer[] =>
  proof.map((h, j) => (j === i ? Buffer.from(h.map((b, k) => (k === 0 ? b ^ 8 : b))) : h));

/** Every way of spoiling one valid proof; none may verify. */
function spoilt(leaf: Buffer, index: number, size: number, proof: readonly Buffer[], root: Buffer) {
  const other = Buffer.alloc(32, 0xab);
  const cases: [string, Buffer, number, number, readonly Buffer[], Buffer][] = [
    ['index - 1', leaf, index - 1, size, proof, root],
    ['index + 1', leaf, index + 1, size, proof, root],
    ['index ^ 2', leaf, index ^ 2, size, proof, root],
    ['size * 2', leaf, index, size * 2, proof, root],
    ['size / 2', leaf, index, Math.floor(size / 2), proof, root],
    ['wrong leaf', other, index, size, proof, root],
    ['empty root', leaf, index, size, proof, EMPTY_ROOT],
    ['wrong root', leaf, index, size, proof, other],
    ['trailing root', leaf, index, size, [...proof, root], root],
    ['trailing hash', leaf, index, size, [...proof, other], root],
    ['preceding root', leaf, index, size, [root, ...proof], root],
    ['short hash appended', leaf, index, size, [...proof, Buffer.alloc(31)], root],
  ];
  proof.forEach((_, i) => cases.push([`bit flipped in proof[${i}]`, leaf, index, size, flip(proof, i), root]));
  if (proof.length > 0) cases.push(['truncated', leaf, index, size, proof.slice(0, -1), root]);
  if (proof.length > 1) cases.push(['inserted', leaf, index, size, [proof[0]!, other, ...proof.slice(1)], root]);
  return cases;
}

describe('inclusionProof', () => {
  it('reproduces the CT known proofs', async () => {
    const source = new MemorySource(new RefTree(CT_LEAF_INPUTS.map(refLeafHash)), [0]);
    for (const v of CT_INCLUSION) assert.deepEqual(await inclusionProof(source, v.index, v.size), v.proof);
  });

  it('equals the naive PATH for every index of every size up to 70', async () => {
    const tree = new RefTree(refLeaves(70));
    const source = new MemorySource(tree);
    for (let size = 1; size <= 70; size++) {
      for (let index = 0; index < size; index++) {
        assert.deepEqual(await inclusionProof(source, index, size), tree.path(index, 0, size), `index ${index} size ${size}`);
      }
    }
  });

  it('equals the naive PATH at large sizes, in a few batches of at most 256 hashes', async () => {
    const tree = new RefTree(refLeaves(70_000));
    for (const size of [1000, 4097, 70_000]) {
      for (const index of [0, 1, 255, 256, size >> 1, size - 2, size - 1, (size * 0.37) | 0]) {
        const source = new MemorySource(tree);
        assert.deepEqual(await inclusionProof(source, index, size), tree.path(index, 0, size), `index ${index} size ${size}`);
        assert.ok(source.reads.every((r) => r.to - r.from <= 256));
        assert.ok(source.reads.length <= 6, `${source.reads.length} reads for index ${index} size ${size}`);
      }
    }
  });

  it('falls back to the leaves where level 8 is missing', async () => {
    const tree = new RefTree(refLeaves(5000));
    const source = new MemorySource(tree, [0, 8, 16], (level, index) => level === 8 && index % 3 === 1);
    for (const index of [0, 300, 2600, 4999]) assert.deepEqual(await inclusionProof(source, index, 5000), tree.path(index));
  });

  it('refuses an index outside the tree', async () => {
    const source = new MemorySource(new RefTree(refLeaves(8)));
    for (const [index, size] of [
      [0, 0],
      [8, 8],
      [-1, 8],
      [1.5, 8],
    ] as const) {
      await assert.rejects(inclusionProof(source, index, size), TypeError);
    }
  });
});

describe('verifyInclusion', () => {
  it('accepts the CT known proofs and none of their spoilt variants', () => {
    for (const v of CT_INCLUSION) {
      const leaf = refLeafHash(CT_LEAF_INPUTS[v.index]!);
      const root = CT_ROOTS[v.size]!;
      assert.equal(verifyInclusion(leaf, v.index, v.size, v.proof, root), true);
      for (const [what, ...args] of spoilt(leaf, v.index, v.size, v.proof, root)) {
        assert.equal(verifyInclusion(...args), false, `${what} (index ${v.index} size ${v.size})`);
      }
    }
  });

  it('accepts every proof of every size up to 70 and rejects every spoilt variant', async () => {
    const tree = new RefTree(refLeaves(70));
    const source = new MemorySource(tree);
    for (let size = 1; size <= 70; size++) {
      const root = tree.mth(0, size);
      for (let index = 0; index < size; index++) {
        const proof = await inclusionProof(source, index, size);
        assert.equal(verifyInclusion(tree.leaves[index]!, index, size, proof, root), true);
        for (const [what, ...args] of spoilt(tree.leaves[index]!, index, size, proof, root)) {
          assert.equal(verifyInclusion(...args), false, `${what} (index ${index} size ${size})`);
        }
      }
    }
  });

  it('accepts a proof at a size beyond 32 bits', () => {
    // A tree of 2^40 leaves whose every level-0..39 sibling is the same hash: the RFC walk uses
    // sizes a 32-bit shift would truncate.
    const size = 2 ** 40;
    const leaf = Buffer.alloc(32, 1);
    const sibling = Buffer.alloc(32, 2);
    const proof = Array.from({ length: 40 }, () => sibling);
    const index = size - 1;
    let root: Buffer = leaf;
    for (const p of proof) root = new RefTree([p, root]).mth();
    assert.equal(verifyInclusion(leaf, index, size, proof, root), true);
    assert.equal(verifyInclusion(leaf, index - 1, size, proof, root), false);
  });

  it('treats malformed arguments as no proof', () => {
    const h = Buffer.alloc(32);
    assert.equal(verifyInclusion(h, 0, 1, [], h), true);
    assert.equal(verifyInclusion(Buffer.alloc(31), 0, 1, [], Buffer.alloc(31)), false);
    assert.equal(verifyInclusion(h, 0, 0, [], h), false);
    assert.equal(verifyInclusion(h, 1, 1, [], h), false);
    assert.equal(verifyInclusion(h, -1, 1, [], h), false);
    assert.equal(verifyInclusion(h, 0.5, 1, [], h), false);
  });
});
