import { HASH_SIZE } from './hash.js';
import { NodeUnavailable, storedLevelsDescending, type NodeSource } from './node-source.js';
import { decompose, foldComplete, foldRange } from './tree-shape.js';

/** Hashes in one tile (C2SP tlog-tiles, height 8): the widest read of a level that is present. */
const TILE_WIDTH = 256;

/**
 * Reads the hashes one computation (a root, a proof, a frontier) needs, remembering each read
 * so that two pieces of the same computation never fetch the same nodes twice.
 *
 * With a tree size, reads are widened to the whole tile (the 256-aligned block of nodes at
 * that level, cut at the last complete node within the size): the siblings along one proof
 * path mostly share a tile, so an inclusion proof in a million-entry log costs a handful of
 * reads instead of one per level. Without a size, it reads exactly the nodes asked for.
 */
export class NodeReader {
  readonly #source: NodeSource;
  readonly #levels: number[];
  readonly #size: number | undefined;
  readonly #reads = new Map<string, Promise<Buffer[] | NodeUnavailable>>();

  constructor(source: NodeSource, size?: number) {
    this.#source = source;
    this.#levels = storedLevelsDescending(source);
    this.#size = size;
  }

  /**
   * The hash of the aligned complete subtree (`level`, `index`), from the highest stored level
   * at or below `level` whose nodes are available: 2^(level − stored) hashes in one read, then
   * hashed up. A level whose read throws {@link NodeUnavailable} is skipped for the next lower
   * one; when even the leaves are missing, the source's error is thrown.
   */
  async subtree(level: number, index: number): Promise<Buffer> {
    let missing: NodeUnavailable | undefined;
    for (const stored of this.#levels) {
      if (stored > level) continue;
      const span = 2 ** (level - stored);
      const nodes = await this.#read(stored, index * span, span);
      if (nodes instanceof NodeUnavailable) {
        missing = nodes;
        continue;
      }
      // A copy, so that whoever receives it cannot write into a hash the source keeps.
      return span === 1 ? Buffer.from(nodes[0]!) : foldComplete(nodes);
    }
    throw missing ?? new TypeError('no stored level at or below the subtree');
  }

  /**
   * MTH(D[begin:end]) for a range RFC 9162's recursions visit (`begin` a multiple of a power of
   * two at least `end − begin`), from the aligned subtrees covering it, read concurrently.
   */
  async range(begin: number, end: number): Promise<Buffer> {
    const pieces = decompose(begin, end);
    return foldRange(await Promise.all(pieces.map((p) => this.subtree(p.level, p.index))));
  }

  async #read(level: number, from: number, span: number): Promise<Buffer[] | NodeUnavailable> {
    if (this.#size !== undefined && span <= TILE_WIDTH) {
      const start = from - (from % TILE_WIDTH);
      const end = Math.min(start + TILE_WIDTH, Math.floor(this.#size / 2 ** level));
      if (from + span <= end) {
        const tile = await this.#fetch(level, start, end);
        if (!(tile instanceof NodeUnavailable)) return tile.slice(from - start, from - start + span);
      }
    }
    // A hole elsewhere in the tile need not mean these nodes are missing too (and when the tile
    // is exactly these nodes, the remembered answer comes back without a second read).
    return this.#fetch(level, from, from + span);
  }

  #fetch(level: number, from: number, to: number): Promise<Buffer[] | NodeUnavailable> {
    const key = `${level}/${from}/${to}`;
    let read = this.#reads.get(key);
    if (read === undefined) {
      read = this.#load(level, from, to);
      this.#reads.set(key, read);
    }
    return read;
  }

  async #load(level: number, from: number, to: number): Promise<Buffer[] | NodeUnavailable> {
    let nodes: Buffer[];
    try {
      nodes = await this.#source.nodes(level, from, to);
    } catch (err) {
      if (err instanceof NodeUnavailable) return err;
      throw err;
    }
    // A short or malformed answer would silently yield a wrong root: the contract says MUST.
    if (!Array.isArray(nodes) || nodes.length !== to - from || !nodes.every((n) => Buffer.isBuffer(n) && n.length === HASH_SIZE)) {
      throw new TypeError('the node source broke its contract: wrong count or shape of hashes');
    }
    return nodes;
  }
}
