import { randomBytes } from 'node:crypto';

/** The shortest pattern a set may hold, in UTF-16 code units. */
export const LITERAL_WINDOW = 8;

/** Characters per block in the shift table. */
const BLOCK = 3;
const SHIFT_BITS = 16;

/** One occurrence of a pattern: `[start, end)` in UTF-16 code units. */
export interface LiteralMatch {
  readonly pattern: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Every occurrence of a fixed set of literal strings, found in one pass (Wu–Manber).
 *
 * A window as long as the shortest pattern (`m`) slides over the text. The last 3 characters
 * of the window look up how far it can safely move: as far as the block's rightmost place in
 * any pattern's first `m` characters allows, or `m − 2` when it occurs in none. Only windows
 * with shift 0 are checked, through a hash table of the patterns' first 8 characters and a
 * `startsWith`. For 50 secrets of 32 bytes in their ~300 spellings, `m` is about 40 and the
 * window moves about 30 characters per step over ordinary text.
 *
 * Why not one regex of alternatives: V8 tries them one by one at each position, slower than
 * this by an order of magnitude. Why not Aho–Corasick: it reads every character, and a dense
 * automaton over 300 spellings needs megabytes. Memory here is 64 KiB plus the patterns.
 *
 * The prefix hash base is random per set, so a text cannot be crafted to collide with it; a
 * collision would only cost a `startsWith` anyway.
 */
export class LiteralSet {
  private readonly patterns: readonly string[];
  /** Shortest pattern length: the window. */
  private readonly m: number;
  /** block hash → how far the window may move when its last 3 characters hash there. */
  private readonly shifts = new Uint8Array(1 << SHIFT_BITS);
  /** Open addressing over prefix hashes: slot → hash, slot → first pattern (−1: empty). */
  private readonly slotHash: Int32Array;
  private readonly slotHead: Int32Array;
  /** pattern → next pattern with the same prefix hash (−1: none). */
  private readonly nextSame: Int32Array;
  private readonly mask: number;
  private readonly slotShift: number;
  private readonly base: number;

  constructor(patterns: readonly string[]) {
    for (const p of patterns) if (p.length < LITERAL_WINDOW) throw new TypeError(`LiteralSet patterns must be at least ${LITERAL_WINDOW} code units long`);
    this.patterns = patterns;
    this.m = patterns.reduce((min, p) => Math.min(min, p.length), Infinity);
    this.base = randomBytes(4).readUInt32LE(0) | 1;

    // A shift is only ever made smaller (by a block elsewhere, by a hash collision, by the
    // cap of 255): smaller shifts look at more windows but can never skip a match.
    this.shifts.fill(Math.min(255, this.m - BLOCK + 1));
    for (const p of patterns) {
      for (let j = BLOCK - 1; j < this.m; j++) {
        const b = blockHash(p.charCodeAt(j - 2), p.charCodeAt(j - 1), p.charCodeAt(j));
        const shift = this.m - 1 - j;
        if (shift < this.shifts[b]!) this.shifts[b] = shift;
      }
    }

    let bits = 4;
    while (1 << bits < patterns.length * 2) bits++;
    this.mask = (1 << bits) - 1;
    this.slotShift = 32 - bits;
    this.slotHash = new Int32Array(1 << bits);
    this.slotHead = new Int32Array(1 << bits).fill(-1);
    this.nextSame = new Int32Array(patterns.length).fill(-1);
    patterns.forEach((p, index) => {
      const h = this.prefixHash(p, 0);
      let slot = Math.imul(h, 0x9e3779b1) >>> this.slotShift;
      while (this.slotHead[slot] !== -1 && this.slotHash[slot] !== h) slot = (slot + 1) & this.mask;
      this.nextSame[index] = this.slotHead[slot]!;
      this.slotHash[slot] = h;
      this.slotHead[slot] = index;
    });
  }

  get size(): number {
    return this.patterns.length;
  }

  /** The pattern at an index reported in a match. */
  pattern(index: number): string {
    return this.patterns[index]!;
  }

  /** Every occurrence of every pattern, overlapping ones included, in order of start. */
  findAll(text: string): LiteralMatch[] {
    const out: LiteralMatch[] = [];
    const { m, shifts } = this;
    const n = text.length;
    if (this.patterns.length === 0) return out;
    // `end` is the last character of the window [end − m + 1, end].
    for (let end = m - 1; end < n; ) {
      const shift = shifts[blockHash(text.charCodeAt(end - 2), text.charCodeAt(end - 1), text.charCodeAt(end))]!;
      if (shift > 0) {
        end += shift;
        continue;
      }
      this.check(text, end - m + 1, out);
      end++;
    }
    return out;
  }

  /** Checks the patterns whose first 8 characters hash like the text at `i`. */
  private check(text: string, i: number, out: LiteralMatch[]): void {
    const h = this.prefixHash(text, i);
    let slot = Math.imul(h, 0x9e3779b1) >>> this.slotShift;
    for (let head = this.slotHead[slot]!; head !== -1; head = this.slotHead[slot]!) {
      if (this.slotHash[slot] === h) {
        for (let p = head; p !== -1; p = this.nextSame[p]!) {
          const pat = this.patterns[p]!;
          if (text.startsWith(pat, i)) out.push({ pattern: p, start: i, end: i + pat.length });
        }
        return;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  private prefixHash(s: string, from: number): number {
    let h = 0;
    for (let i = from; i < from + LITERAL_WINDOW; i++) h = (Math.imul(h, this.base) + s.charCodeAt(i)) | 0;
    return h;
  }
}

/** 3 UTF-16 code units → 16 bits; the last multiply carries all three into the top bits. */
function blockHash(a: number, b: number, c: number): number {
  return Math.imul(Math.imul(a, 0x3c6ef35f) ^ Math.imul(b, 0x2545f491) ^ c, 0x9e3779b1) >>> (32 - SHIFT_BITS);
}
