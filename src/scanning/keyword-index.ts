import type { Detector } from './detectors.js';

/** Bigrams of 7-bit ASCII characters: 2^14 slots. */
const SLOTS = 1 << 14;

interface Candidate {
  readonly keyword: string;
  /** Compared case-insensitively (the detector's regex is). */
  readonly folded: boolean;
  /** Indices (in the detector list) of the detectors this keyword lets run. */
  readonly detectors: readonly number[];
}

const lowerAscii = (c: number): number => (c >= 65 && c <= 90 ? c | 0x20 : c);

/**
 * What is wrong with a detector's keywords for this index, or undefined: at least one, each
 * printable ASCII of two characters or more, lower-case for a case-insensitive regex.
 */
export function keywordProblem(d: Detector): string | undefined {
  if (!d.keywords) return undefined;
  if (d.keywords.length === 0) return 'keywords: none given';
  for (const k of d.keywords) {
    if (k.length < 2 || !/^[\x20-\x7e]+$/.test(k)) return `keyword ${JSON.stringify(k)}: printable ASCII, two characters or more`;
    if (d.regex.ignoreCase && k !== k.toLowerCase()) return `keyword ${JSON.stringify(k)}: lower-case, as the regex ignores case`;
  }
  return undefined;
}

/**
 * Which detectors of a list may match a text, found in one pass over it: a detector without
 * keywords always may; one with keywords only when one of them occurs (see `Detector.keywords`).
 *
 * Checking each keyword with `includes` reads the whole text once per keyword — for ~60
 * keywords, more than all the regexes it saves. Here each position's two characters index a
 * table of the keywords starting with them (lower-cased for a case-insensitive detector's), and
 * only those are compared there. Keywords are printable ASCII, at least two characters long.
 */
export class KeywordIndex {
  private readonly exact = new Array<Candidate[] | undefined>(SLOTS);
  private readonly folded = new Array<Candidate[] | undefined>(SLOTS);
  /** 1 where a pair of characters, as they are, starts a keyword of either table. */
  private readonly hot = new Uint8Array(SLOTS);
  /** Detectors that run whatever the text holds. */
  private readonly always: readonly number[];
  private readonly size: number;
  private readonly gated: number;

  constructor(detectors: readonly Detector[]) {
    this.size = detectors.length;
    const always: number[] = [];
    const byKeyword = new Map<string, { folded: boolean; detectors: number[] }>();
    detectors.forEach((d, i) => {
      if (!d.keywords) {
        always.push(i);
        return;
      }
      const problem = keywordProblem(d);
      if (problem) throw new TypeError(`detector ${d.id}: ${problem}`);
      const folded = d.regex.ignoreCase;
      for (const keyword of d.keywords) {
        const key = `${folded ? 'i' : 's'}${keyword}`;
        const entry = byKeyword.get(key) ?? { folded, detectors: [] };
        entry.detectors.push(i);
        byKeyword.set(key, entry);
      }
    });
    for (const [key, { folded, detectors: ds }] of byKeyword) {
      const keyword = key.slice(1);
      const slot = (keyword.charCodeAt(0) << 7) | keyword.charCodeAt(1);
      const table = folded ? this.folded : this.exact;
      (table[slot] ??= []).push({ keyword, folded, detectors: ds });
    }
    this.always = always;
    this.gated = detectors.length - always.length;
    for (let slot = 0; slot < SLOTS; slot++) {
      const a = slot >> 7;
      const b = slot & 127;
      if (this.exact[slot] !== undefined || this.folded[(lowerAscii(a) << 7) | lowerAscii(b)] !== undefined) this.hot[slot] = 1;
    }
  }

  /** For each detector, whether it may match `text` (1) or certainly does not (0). */
  mayMatch(text: string): Uint8Array {
    const out = new Uint8Array(this.size);
    for (const i of this.always) out[i] = 1;
    const state = { left: this.gated };
    if (state.left === 0) return out;
    const { exact, folded, hot } = this;
    const end = text.length - 1;
    let a = text.charCodeAt(0);
    for (let i = 0; i < end; i++) {
      const b = text.charCodeAt(i + 1);
      // One byte tells whether anything starts with this pair, in either table.
      if (a < 128 && b < 128 && hot[(a << 7) | b] === 1) {
        const e = exact[(a << 7) | b];
        if (e !== undefined && this.mark(text, i, e, out, state)) return out;
        const f = folded[(lowerAscii(a) << 7) | lowerAscii(b)];
        if (f !== undefined && this.mark(text, i, f, out, state)) return out;
      }
      a = b;
    }
    return out;
  }

  /** Marks the detectors of the candidates that occur at `at`; true once every detector is. */
  private mark(text: string, at: number, list: readonly Candidate[], out: Uint8Array, state: { left: number }): boolean {
    for (const c of list) {
      if (!matchesAt(text, at, c)) continue;
      for (const d of c.detectors) {
        if (out[d] === 0) {
          out[d] = 1;
          state.left--;
        }
      }
    }
    return state.left === 0;
  }
}

function matchesAt(text: string, at: number, c: Candidate): boolean {
  if (!c.folded) return text.startsWith(c.keyword, at);
  const k = c.keyword;
  if (at + k.length > text.length) return false;
  for (let j = 0; j < k.length; j++) if (lowerAscii(text.charCodeAt(at + j)) !== k.charCodeAt(j)) return false;
  return true;
}
