import { EMPTY_ROOT, isHash, nodeHash } from './hash.js';
import { NodeReader } from './node-reader.js';
import type { NodeSource } from './node-source.js';
import { decompose, foldRange, half, isCount, lsb } from './tree-shape.js';

/**
 * Told of each aligned complete subtree an append completes at a stored level (0 and every
 * multiple of 8), lowest level first: `index` is its position within `level`. A tile builder
 * persists exactly these, which is what a {@link NodeSource} serves back.
 */
export type OnComplete = (level: number, index: number, hash: Buffer) => void;

/**
 * The frontier of a growing log: the roots of the maximal aligned complete subtrees covering
 * leaves [0, size), left to right, largest first (one per set bit of `size`). It is all a
 * writer needs to append a leaf and compute the new root, in O(log n) memory and amortized
 * O(1) hashes per leaf.
 */
export class CompactRange {
  #size: number;
  #hashes: Buffer[];

  /** @throws TypeError unless `hashes` holds one 32-byte hash per set bit of `size`. */
  constructor(size = 0, hashes: readonly Uint8Array[] = []) {
    if (!isCount(size) || !Array.isArray(hashes) || hashes.length !== bitCount(size) || !hashes.every(isHash)) {
      throw new TypeError('a compact range holds one 32-byte hash per set bit of its size');
    }
    this.#size = size;
    this.#hashes = hashes.map((h) => Buffer.from(h));
  }

  /**
   * The frontier for the first `size` leaves, rebuilt from stored subtrees (a few tile reads),
   * e.g. when a writer restarts.
   */
  static async fromSource(source: NodeSource, size: number): Promise<CompactRange> {
    if (!isCount(size)) throw new TypeError('size must be a whole number within the safe range');
    const reader = new NodeReader(source, size);
    const hashes = await Promise.all(decompose(0, size).map((p) => reader.subtree(p.level, p.index)));
    return new CompactRange(size, hashes);
  }

  /** Leaves covered. */
  get size(): number {
    return this.#size;
  }

  /** The subtree roots, left to right (copies). */
  get hashes(): Buffer[] {
    return this.#hashes.map((h) => Buffer.from(h));
  }

  /**
   * Adds the leaf with hash `leaf` (see `leafHash`) at index `size`, merging every subtree it
   * completes, and reports those at stored levels to `onComplete`.
   */
  append(leaf: Uint8Array, onComplete?: OnComplete): void {
    if (!isHash(leaf)) throw new TypeError('a leaf hash is 32 bytes');
    const index = this.#size;
    const size = index + 1;
    if (!isCount(size)) throw new TypeError('the log is at its largest size');
    let hash: Buffer = Buffer.from(leaf);
    onComplete?.(0, index, Buffer.from(hash));
    // Each trailing 1 bit of the old size is a same-sized subtree waiting for a right sibling.
    let level = 0;
    for (let s = index; lsb(s); s = half(s)) {
      hash = nodeHash(this.#hashes.pop()!, hash);
      level++;
      if (level % 8 === 0) onComplete?.(level, size / 2 ** level - 1, Buffer.from(hash));
    }
    this.#hashes.push(hash);
    this.#size = size;
  }

  /** MTH(D[0:size]) (RFC 9162 §2.1.1): the frontier folded right to left. */
  root(): Buffer {
    if (this.#size === 0) return Buffer.from(EMPTY_ROOT);
    return Buffer.from(foldRange(this.#hashes));
  }
}

function bitCount(n: number): number {
  let count = 0;
  for (; n > 0; n = half(n)) if (lsb(n)) count++;
  return count;
}
