import { EMPTY_ROOT } from './hash.js';
import { NodeReader } from './node-reader.js';
import type { NodeSource } from './node-source.js';
import { isCount } from './tree-shape.js';

/**
 * The hash of the aligned complete subtree covering leaves [index·2^level, (index+1)·2^level),
 * read from the highest stored level at or below `level` (2^(level − stored) hashes in one
 * read), falling back level by level where the source throws `NodeUnavailable`.
 *
 * @throws TypeError (as a rejection) for a negative, fractional or unsafe `level` or `index`.
 */
export async function subtreeHash(source: NodeSource, level: number, index: number): Promise<Buffer> {
  if (!isCount(level) || !isCount(index) || !isCount((index + 1) * 2 ** level)) {
    throw new TypeError('level and index must be whole numbers within the safe range');
  }
  return new NodeReader(source).subtree(level, index);
}

/**
 * MTH(D[0:size]) (RFC 9162 §2.1.1): the root of the first `size` leaves, folded from the
 * maximal aligned complete subtrees covering them (at most one per bit of `size`), so a
 * million-entry root costs a few tile reads, never the leaves.
 *
 * @throws TypeError (as a rejection) for a size that is not a whole number within the safe range.
 */
export async function treeRoot(source: NodeSource, size: number): Promise<Buffer> {
  if (!isCount(size)) throw new TypeError('size must be a whole number within the safe range');
  if (size === 0) return Buffer.from(EMPTY_ROOT);
  return new NodeReader(source, size).range(0, size);
}
