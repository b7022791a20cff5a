import { isHash, nodeHash, sameHash } from './hash.js';
import { NodeReader } from './node-reader.js';
import type { NodeSource } from './node-source.js';
import { half, isCount, lsb, splitPoint } from './tree-shape.js';

/**
 * PATH(index, D[size]) (RFC 9162 §2.1.3.1): the sibling hashes from the leaf up to the root,
 * nearest the leaf first. Each is the root of a range the recursion visits, read from aligned
 * subtrees, so the proof costs O(log size) hashes from a few tile reads.
 *
 * @throws TypeError (as a rejection) unless 0 ≤ index < size, both whole and safe.
 */
export async function inclusionProof(source: NodeSource, index: number, size: number): Promise<Buffer[]> {
  if (!isCount(index) || !isCount(size) || index >= size) {
    throw new TypeError('an inclusion proof needs 0 <= index < size');
  }
  // The recursion walked top-down: at each split, the half without the leaf is a sibling.
  const siblings: [number, number][] = [];
  let begin = 0;
  let end = size;
  while (end - begin > 1) {
    const k = splitPoint(end - begin);
    if (index < begin + k) {
      siblings.push([begin + k, end]);
      end = begin + k;
    } else {
      siblings.push([begin, begin + k]);
      begin += k;
    }
  }
  const reader = new NodeReader(source, size);
  return Promise.all(siblings.reverse().map(([b, e]) => reader.range(b, e)));
}

/**
 * Whether `proof` shows the leaf with hash `leaf` at `index` in the tree of `size` leaves whose
 * root is `root` (RFC 9162 §2.1.3.2, step for step). Never throws: anything malformed (an
 * index outside the tree, a hash that is not 32 bytes) is simply not a proof.
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  // Step 1: the index must lie inside the tree.
  if (!isCount(index) || !isCount(size) || index >= size) return false;
  if (!isHash(leaf) || !isHash(root) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  // Steps 2-3.
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  // Step 4.
  for (const p of proof) {
    if (sn === 0) return false; // 4a: more proof than tree.
    if (lsb(fn) || fn === sn) {
      r = nodeHash(p, r); // 4b.i
      // 4b.ii: climb past the levels where this node has no right sibling.
      while (!lsb(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p); // 4b, otherwise
    }
    fn = half(fn); // 4c
    sn = half(sn);
  }
  // Step 5: all levels used, and the root reached.
  return sn === 0 && sameHash(r, root);
}
