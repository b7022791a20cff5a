import { nodeHash } from './hash.js';

/**
 * An aligned complete subtree: the `2^level` leaves [index·2^level, (index+1)·2^level). Every
 * node the log stores, and every piece a proof is built from, is one of these.
 */
export interface Subtree {
  readonly level: number;
  readonly index: number;
}

/** A tree size or leaf index: a whole number the arithmetic here handles exactly. */
export function isCount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

/** The largest power of two strictly below `n` (n ≥ 2): RFC 9162 §2.1.1's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The maximal aligned complete subtrees covering [begin, end), left to right.
 *
 * When `begin` is a multiple of a power of two at least `end - begin` (true of every range
 * RFC 9162's recursions visit), these are exactly the subtrees of the binary expansion of
 * `end - begin`, largest first, and MTH(D[begin:end]) is their right fold ({@link foldRange}):
 * each split `k` of the recursion peels off the leftmost one.
 */
export function decompose(begin: number, end: number): Subtree[] {
  const out: Subtree[] = [];
  while (begin < end) {
    let level = 0;
    let span = 1;
    while (begin % (span * 2) === 0 && begin + span * 2 <= end) {
      span *= 2;
      level++;
    }
    out.push({ level, index: begin / span });
    begin += span;
  }
  return out;
}

/** MTH of a range from the hashes of its {@link decompose} pieces (at least one). */
export function foldRange(hashes: readonly Buffer[]): Buffer {
  let acc = hashes[hashes.length - 1];
  if (acc === undefined) throw new TypeError('no hashes to fold');
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i]!, acc);
  return acc;
}

/** The root of the complete subtree whose 2^j nodes, left to right, are `hashes`. */
export function foldComplete(hashes: readonly Buffer[]): Buffer {
  const row = hashes.slice();
  if (row.length === 0 || (row.length & (row.length - 1)) !== 0) {
    throw new TypeError('a complete subtree has a power-of-two number of nodes');
  }
  for (let width = row.length; width > 1; width /= 2) {
    for (let i = 0; i < width / 2; i++) row[i] = nodeHash(row[2 * i]!, row[2 * i + 1]!);
  }
  return row[0]!;
}

/** ⌊n / 2⌋: RFC 9162's right shift, in arithmetic because `>>` would cut sizes at 32 bits. */
export function half(n: number): number {
  return Math.floor(n / 2);
}

/** Whether bit 0 of `n` is set (RFC 9162's LSB). */
export function lsb(n: number): boolean {
  return n % 2 === 1;
}
