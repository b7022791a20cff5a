/**
 * An independent RFC 6962 / RFC 9162 Merkle tree written straight from the RFC's recursive
 * definitions (MTH, PATH, SUBPROOF over lists of leaves), to check src/audit/merkle against.
 * It shares no code with the library: only SHA-256 from node:crypto. Memoized by range, so
 * checking every pair of sizes up to 70 stays fast.
 */
import { createHash } from 'node:crypto';
import { NodeUnavailable, type NodeSource } from '../../src/audit/merkle/node-source.js';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 9162 §2.1.1: MTH({d(0)}) = HASH(0x00 || d(0)). */
export const refLeafHash = (data: Uint8Array): Buffer => sha256(Buffer.of(0), data);
const refNode = (l: Buffer, r: Buffer): Buffer => sha256(Buffer.of(1), l, r);

/** k: the largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** A list of leaf hashes with the RFC's functions over its sub-lists D[begin:end]. */
export class RefTree {
  readonly #memo = new Map<string, Buffer>();
  constructor(readonly leaves: readonly Buffer[]) {}

  /** MTH(D[begin:end]). */
  mth(begin = 0, end = this.leaves.length): Buffer {
    const n = end - begin;
    if (n === 0) return sha256();
    if (n === 1) return this.leaves[begin]!;
    const key = `${begin}:${end}`;
    let h = this.#memo.get(key);
    if (!h) {
      const k = split(n);
      h = refNode(this.mth(begin, begin + k), this.mth(begin + k, end));
      this.#memo.set(key, h);
    }
    return h;
  }

  /** PATH(m, D[begin:end]). */
  path(m: number, begin = 0, end = this.leaves.length): Buffer[] {
    const n = end - begin;
    if (n === 1) return [];
    const k = split(n);
    if (m < k) return [...this.path(m, begin, begin + k), this.mth(begin + k, end)];
    return [...this.path(m - k, begin + k, end), this.mth(begin, begin + k)];
  }

  /** PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true). */
  proof(m: number, n: number): Buffer[] {
    return this.#subproof(m, 0, n, true);
  }

  #subproof(m: number, begin: number, end: number, b: boolean): Buffer[] {
    const n = end - begin;
    if (m === n) return b ? [] : [this.mth(begin, end)];
    const k = split(n);
    if (m <= k) return [...this.#subproof(m, begin, begin + k, b), this.mth(begin + k, end)];
    return [...this.#subproof(m - k, begin + k, end, false), this.mth(begin, begin + k)];
  }
}

/** Leaf hashes of `n` distinct entries. */
export function refLeaves(n: number, seed = 'entry'): Buffer[] {
  return Array.from({ length: n }, (_, i) => refLeafHash(Buffer.from(`${seed} ${i}`)));
}

export interface Read {
  level: number;
  from: number;
  to: number;
}

/**
 * An in-memory {@link NodeSource}: every complete aligned subtree at `storedLevels`, computed
 * with {@link RefTree}. `missing(level, index)` withholds nodes (the read throws
 * NodeUnavailable) to exercise the fallback; `reads` records every call.
 */
export class MemorySource implements NodeSource {
  readonly reads: Read[] = [];
  readonly #rows = new Map<number, Buffer[]>();

  constructor(
    tree: RefTree,
    readonly storedLevels: readonly number[] = [0, 8, 16],
    readonly missing: (level: number, index: number) => boolean = () => false,
  ) {
    for (const level of storedLevels) {
      const span = 2 ** level;
      const row: Buffer[] = [];
      for (let i = 0; (i + 1) * span <= tree.leaves.length; i++) row.push(tree.mth(i * span, (i + 1) * span));
      this.#rows.set(level, row);
    }
  }

  async nodes(level: number, from: number, to: number): Promise<Buffer[]> {
    this.reads.push({ level, from, to });
    const row = this.#rows.get(level);
    if (!row || from < 0 || to > row.length || from > to) throw new NodeUnavailable(level, from, to);
    for (let i = from; i < to; i++) if (this.missing(level, i)) throw new NodeUnavailable(level, from, to);
    return row.slice(from, to);
  }
}
