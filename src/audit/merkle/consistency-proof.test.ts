import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemorySource, RefTree, refLeafHash, refLeaves } from '../../../test/support/merkle-reference.js';
import { CT_CONSISTENCY, CT_LEAF_INPUTS, CT_ROOTS } from '../../../test/support/merkle-vectors.js';
import { EMPTY_ROOT } from './hash.js';
import { consistencyProof, verifyConsistency } from './consistency-proof.js';

const flip = (proof: readonly Buffer[], i: number): Buffer[] =>
  proof.map((h, j) => (j === i ? Buffer.from(h.map((b, k) => (k === 0 ? b ^ 16 : b))) : h));

/** Every way of spoiling one valid, non-empty proof; none may verify. */
function spoilt(m: number, n: number, proof: readonly Buffer[], rootM: Buffer, rootN: Buffer) {
  const other = Buffer.alloc(32, 0xab);
  const cases: [string, number, number, readonly Buffer[], Buffer, Buffer][] = [
    ['m - 1', m - 1, n, proof, rootM, rootN],
    ['m + 1', m + 1, n, proof, rootM, rootN],
    ['m ^ 2', m ^ 2, n, proof, rootM, rootN],
    ['n * 2', m, n * 2, proof, rootM, rootN],
    ['n / 2', m, Math.floor(n / 2), proof, rootM, rootN],
    ['wrong old root', m, n, proof, other, rootN],
    ['wrong new root', m, n, proof, rootM, other],
    ['swapped roots', m, n, proof, rootN, rootM],
    ['empty proof', m, n, [], rootM, rootN],
    ['trailing old root', m, n, [...proof, rootM], rootM, rootN],
    ['trailing new root', m, n, [...proof, rootN], rootM, rootN],
    ['trailing hash', m, n, [...proof, other], rootM, rootN],
    ['preceding old root', m, n, [rootM, ...proof], rootM, rootN],
    ['preceding new root', m, n, [rootN, ...proof], rootM, rootN],
    ['preceding proof[0]', m, n, [proof[0]!, ...proof], rootM, rootN],
    ['truncated', m, n, proof.slice(0, -1), rootM, rootN],
    ['short hash appended', m, n, [...proof, Buffer.alloc(31)], rootM, rootN],
  ];
  proof.forEach((_, i) => cases.push([`bit flipped in proof[${i}]`, m, n, flip(proof, i), rootM, rootN]));
  return cases;
}

describe('consistencyProof', () => {
  it('reproduces the CT known proofs', async () => {
    const source = new MemorySource(new RefTree(CT_LEAF_INPUTS.map(refLeafHash)), [0]);
    for (const v of CT_CONSISTENCY) assert.deepEqual(await consistencyProof(source, v.m, v.n), v.proof);
  });

  it('equals the naive SUBPROOF for every pair of sizes up to 70', async () => {
    const tree = new RefTree(refLeaves(70));
    const source = new MemorySource(tree);
    for (let n = 1; n <= 70; n++) {
      for (let m = 1; m <= n; m++) assert.deepEqual(await consistencyProof(source, m, n), tree.proof(m, n), `${m} -> ${n}`);
    }
  });

  it('equals the naive SUBPROOF at large sizes, in a few batches of at most 256 hashes', async () => {
    const tree = new RefTree(refLeaves(70_000));
    const pairs = [
      [1, 1000],
      [999, 1000],
      [256, 4097],
      [4096, 4097],
      [1000, 70_000],
      [65_536, 70_000],
      [65_537, 70_000],
      [12_345, 67_890],
      [69_999, 70_000],
    ] as const;
    for (const [m, n] of pairs) {
      const source = new MemorySource(tree);
      const proof = await consistencyProof(source, m, n);
      assert.deepEqual(proof, tree.proof(m, n), `${m} -> ${n}`);
      assert.equal(verifyConsistency(m, n, proof, tree.mth(0, m), tree.mth(0, n)), true);
      assert.ok(source.reads.every((r) => r.to - r.from <= 256));
      assert.ok(source.reads.length <= 8, `${source.reads.length} reads for ${m} -> ${n}`);
    }
  });

  it('falls back to the leaves where level 8 is missing', async () => {
    const tree = new RefTree(refLeaves(5000));
    const source = new MemorySource(tree, [0, 8, 16], (level, index) => level === 8 && index % 3 === 1);
    for (const [m, n] of [
      [300, 5000],
      [2600, 4999],
      [1, 5000],
    ] as const) {
      assert.deepEqual(await consistencyProof(source, m, n), tree.proof(m, n));
    }
  });

  it('gives the empty proof from a size to itself', async () => {
    const source = new MemorySource(new RefTree(refLeaves(8)));
    assert.deepEqual(await consistencyProof(source, 5, 5), []);
  });

  it('refuses a proof from the empty tree, or backwards', async () => {
    const source = new MemorySource(new RefTree(refLeaves(8)));
    for (const [m, n] of [
      [0, 0],
      [0, 5],
      [6, 5],
      [-1, 5],
      [1.5, 5],
    ] as const) {
      await assert.rejects(consistencyProof(source, m, n), TypeError);
    }
  });
});

describe('verifyConsistency', () => {
  it('accepts the CT known proofs and none of their spoilt variants', () => {
    for (const v of CT_CONSISTENCY) {
      const [rootM, rootN] = [CT_ROOTS[v.m]!, CT_ROOTS[v.n]!];
      assert.equal(verifyConsistency(v.m, v.n, v.proof, rootM, rootN), true);
      if (v.proof.length === 0) continue;
      for (const [what, ...args] of spoilt(v.m, v.n, v.proof, rootM, rootN)) {
        assert.equal(verifyConsistency(...args), false, `${what} (${v.m} -> ${v.n})`);
      }
    }
  });

  it('accepts every proof between sizes up to 70 and rejects every spoilt variant', async () => {
    const tree = new RefTree(refLeaves(70));
    const source = new MemorySource(tree);
    for (let n = 2; n <= 70; n++) {
      for (let m = 1; m < n; m++) {
        const proof = await consistencyProof(source, m, n);
        const [rootM, rootN] = [tree.mth(0, m), tree.mth(0, n)];
        assert.equal(verifyConsistency(m, n, proof, rootM, rootN), true);
        for (const [what, ...args] of spoilt(m, n, proof, rootM, rootN)) {
          assert.equal(verifyConsistency(...args), false, `${what} (${m} -> ${n})`);
        }
      }
    }
  });

  it('holds from a size to itself only with an empty proof and equal roots', () => {
    const [a, b] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    assert.equal(verifyConsistency(5, 5, [], a, a), true);
    assert.equal(verifyConsistency(5, 5, [], a, b), false);
    assert.equal(verifyConsistency(5, 5, [a], a, a), false);
  });

  it('never holds from the empty tree, backwards, or with malformed arguments', () => {
    const h = Buffer.alloc(32, 1);
    assert.equal(verifyConsistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT), false);
    assert.equal(verifyConsistency(0, 3, [], EMPTY_ROOT, h), false);
    assert.equal(verifyConsistency(0, 3, [h], EMPTY_ROOT, h), false);
    assert.equal(verifyConsistency(2, 1, [h], h, h), false);
    assert.equal(verifyConsistency(1, 2, [h], Buffer.alloc(31), h), false);
    assert.equal(verifyConsistency(1.5, 2, [h], h, h), false);
  });
});
