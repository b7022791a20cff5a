/**
 * The word index: a plain name (`Quentin`) in free text is not a value on its own — prose is full
 * of names and words — but when an agent later passes exactly that word as the party of a call
 * and the person never said it, the word came from what the agent read. So every word of
 * content is indexed (by the ledger, as a keyed digest), and only short arguments are looked up.
 */
import { prepareText } from './find-in-text.js';
import { foldWord } from './normalize.js';
import { walkLeaves } from './walk.js';

/** Words shorter than this are not indexed: `to`, `an`, `of` match everything. */
export const MIN_WORD_LENGTH = 3;
/** Words longer than this are not indexed: no one's name is that long. */
export const MAX_WORD_LENGTH = 64;
/** At most this many distinct words are taken from one piece of content. */
export const MAX_WORDS_PER_EXTRACTION = 20_000;

// A run of letters and digits, with inner `.`, `'` and `-` (`quentin.roe`, `o'neil`, `jean-luc`).
const WORD_RE = /[\p{L}\p{N}_][\p{L}\p{N}\p{M}_.'’-]*/gu;
const WORD_SHAPE = /^[\p{L}\p{N}_][\p{L}\p{N}\p{M}_.'’-]*$/u;
const JOINERS = /[.'’-]/;

/**
 * The distinct case-folded words of every string in `input` (object keys excluded): each run
 * as a whole and, when it has inner `.`, `'` or `-`, each of its parts.
 */
export function extractWords(input: unknown, limit = MAX_WORDS_PER_EXTRACTION): string[] {
  return collectWords(input, limit).words;
}

/**
 * {@link extractWords}, and whether words were left out at the limit.
 * @internal for the ledger, as `collectValues`.
 */
export function collectWords(input: unknown, limit = MAX_WORDS_PER_EXTRACTION): { words: string[]; truncated: boolean } {
  const words = new Set<string>();
  let truncated = false;
  const add = (w: string): boolean => {
    if (!indexable(w)) return true;
    const folded = foldWord(w);
    if (words.has(folded)) return true;
    if (words.size >= limit) return !(truncated = true);
    words.add(folded);
    return true;
  };
  walkLeaves(input, (leaf) => typeof leaf !== 'string' || wordsOfText(prepareText(leaf), add));
  return { words: [...words], truncated };
}

function wordsOfText(text: string, add: (w: string) => boolean): boolean {
  for (const m of text.matchAll(WORD_RE)) {
    // A run this long is a blob (base64, a hash), not words; its parts would be noise too.
    if (m[0].length > MAX_WORD_LENGTH * 4) continue;
    const run = trimJoiners(m[0]);
    if (!add(run)) return false;
    if (JOINERS.test(run)) for (const part of run.split(/[.'’-]+/)) if (!add(part)) return false;
  }
  return true;
}

/**
 * The words of a short argument (`Quentin`, `@quentin`, `Otto Example`), case-folded and only those
 * long enough to be indexed; null when the argument is not at most `maxWords` plain words.
 */
export function argumentWords(text: string, maxWords: number): string[] | null {
  const t = text.trim().replace(/^@/, '');
  if (t.length === 0 || t.length > MAX_WORD_LENGTH * 2) return null;
  const parts = prepareText(t).split(/\s+/);
  if (parts.length > maxWords) return null;
  const out: string[] = [];
  for (const part of parts) {
    const w = trimJoiners(part);
    if (!WORD_SHAPE.test(w)) return null;
    if (indexable(w)) out.push(foldWord(w));
  }
  return out;
}

function indexable(w: string): boolean {
  return w.length >= MIN_WORD_LENGTH && w.length <= MAX_WORD_LENGTH && /\p{L}/u.test(w);
}

function trimJoiners(s: string): string {
  let end = s.length;
  while (end > 0 && JOINERS.test(s[end - 1]!)) end--;
  return s.slice(0, end);
}
