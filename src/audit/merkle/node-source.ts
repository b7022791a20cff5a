/**
 * Where the tree's stored hashes come from.
 *
 * The log keeps the hash of every complete, aligned subtree at a few levels only: level 0 (the
 * leaf hashes) and multiples of 8, the tile height of C2SP tlog-tiles. A level-8 node covers
 * 256 leaves, a level-16 node 65 536. Any other hash is computed from the nearest stored level
 * below it, so no computation ever reads more than 256 hashes of a level that is present.
 *
 * SPEC: https://c2sp.org/tlog-tiles (tile height 8; only full tiles are modelled here, since a
 * node is stored only once its subtree is complete).
 */
export interface NodeSource {
  /**
   * The levels this source stores: MUST contain 0; every other entry a multiple of 8. Listing a
   * level promises nothing about a given range: a missing range throws {@link NodeUnavailable},
   * and the computation then reads a lower level instead.
   */
  readonly storedLevels: readonly number[];

  /**
   * The hashes of the aligned complete subtrees at `level` (each covers 2^level leaves) with
   * indices [from, to), in order. MUST return exactly `to - from` 32-byte hashes, or throw
   * {@link NodeUnavailable} when it lacks any of them (so the caller falls back to a lower
   * level), or throw anything else for a real failure (which is never masked).
   */
  nodes(level: number, from: number, to: number): Promise<Buffer[]>;
}

/**
 * Thrown by a {@link NodeSource} that does not hold some of the nodes asked for. Past level 0
 * it is an expected condition (not yet built, not backfilled) and the reader falls back; at
 * level 0 it means the leaves themselves are missing, and it reaches the caller.
 */
export class NodeUnavailable extends Error {
  readonly code = 'MERKLE_NODE_UNAVAILABLE';
  readonly level: number;
  readonly from: number;
  readonly to: number;

  constructor(level: number, from: number, to: number) {
    super('the node source does not hold these nodes');
    this.name = 'NodeUnavailable';
    this.level = level;
    this.from = from;
    this.to = to;
  }
}

/** The stored levels of `source`, highest first, after checking the contract's shape. */
export function storedLevelsDescending(source: NodeSource): number[] {
  const levels = [...new Set(source.storedLevels)].sort((a, b) => b - a);
  if (!levels.includes(0) || levels.some((l) => !Number.isSafeInteger(l) || l < 0 || l % 8 !== 0)) {
    throw new TypeError('storedLevels must contain 0, and every other level must be a multiple of 8');
  }
  return levels;
}
