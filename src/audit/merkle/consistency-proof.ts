import { isHash, nodeHash, sameHash } from './hash.js';
import { NodeReader } from './node-reader.js';
import type { NodeSource } from './node-source.js';
import { half, isCount, lsb, splitPoint } from './tree-shape.js';

/**
 * PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 9162 §2.1.4.1): the hashes that let a
 * verifier holding the root of the first `m` leaves rebuild both it and the root of the
 * first `n`, proving the log only appended in between. O(log n) hashes from a few tile reads.
 *
 * `m == n` gives the empty proof (SUBPROOF(m, D[m], true) = {}). `m == 0` is refused: the RFC
 * defines the proof for 0 < m only, and an empty tree commits to nothing worth proving.
 *
 * @throws TypeError (as a rejection) unless 0 < m ≤ n, both whole and safe.
 */
export async function consistencyProof(source: NodeSource, m: number, n: number): Promise<Buffer[]> {
  if (!isCount(m) || !isCount(n) || m === 0 || m > n) {
    throw new TypeError('a consistency proof needs 0 < m <= n');
  }
  if (m === n) return [];
  // The recursion walked top-down. `whole` is the RFC's b: whether the old tree is still a
  // complete subtree the verifier already has the root of (then it is left out of the proof).
  const siblings: [number, number][] = [];
  let head: [number, number] | undefined;
  let begin = 0;
  let end = n;
  let old = m;
  let whole = true;
  for (;;) {
    if (old === end - begin) {
      if (!whole) head = [begin, end]; // SUBPROOF(m, D[m], false) = {MTH(D[m])}
      break;
    }
    const k = splitPoint(end - begin);
    if (old <= k) {
      siblings.push([begin + k, end]);
      end = begin + k;
    } else {
      siblings.push([begin, begin + k]);
      old -= k;
      begin += k;
      whole = false;
    }
  }
  const ranges = siblings.reverse();
  if (head) ranges.unshift(head);
  const reader = new NodeReader(source, n);
  return Promise.all(ranges.map(([b, e]) => reader.range(b, e)));
}

/**
 * Whether `proof` shows that the tree of `n` leaves with root `rootN` extends the tree of `m`
 * leaves with root `rootM` (RFC 9162 §2.1.4.2, step for step). Never throws.
 *
 * Outside the RFC's 0 < m < n: `m == n` holds exactly when the proof is empty and the roots
 * are equal (SUBPROOF's own base case); `m == 0` and `m > n` never hold, matching
 * {@link consistencyProof}, which refuses to produce them.
 */
export function verifyConsistency(
  m: number,
  n: number,
  proof: readonly Uint8Array[],
  rootM: Uint8Array,
  rootN: Uint8Array,
): boolean {
  if (!isCount(m) || !isCount(n) || m === 0 || m > n) return false;
  if (!isHash(rootM) || !isHash(rootN) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  if (m === n) return proof.length === 0 && sameHash(rootM, rootN);
  // Step 1.
  if (proof.length === 0) return false;
  // Step 2: when the old tree is a complete subtree, its root is the proof's implied first node.
  const path = isPowerOfTwo(m) ? [rootM, ...proof] : proof;
  // Step 3.
  let fn = m - 1;
  let sn = n - 1;
  // Step 4: start at the highest complete subtree the old tree's last leaf ends.
  while (lsb(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5.
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  // Step 6.
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false; // 6a: more proof than tree.
    if (lsb(fn) || fn === sn) {
      fr = nodeHash(c, fr); // 6b.i
      sr = nodeHash(c, sr);
      // 6b.ii
      while (!lsb(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c); // 6b, otherwise
    }
    fn = half(fn); // 6c
    sn = half(sn);
  }
  // Step 7.
  return sn === 0 && sameHash(fr, rootM) && sameHash(sr, rootN);
}

function isPowerOfTwo(n: number): boolean {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}
