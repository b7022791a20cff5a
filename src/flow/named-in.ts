import { extractValues } from './provenance/extract.js';
import { argumentWords, extractWords } from './provenance/words.js';

// A value of up to this many words can be a name the person wrote (`Ana`, `Otto Example`).
const MAX_NAME_WORDS = 4;

/**
 * Whether the person's request names a value: every word of a short value (`Ana`, `releases`,
 * `Otto Example`) is a word of the request, or the value carries an address, URL, account or
 * other tracked value the request holds. Words are compared case-folded, as provenance does;
 * words too short to index (`to`, `Al`) never name anything. Built once per request, lazily.
 */
export function namedIn(purpose: string): (value: string) => boolean {
  let words: Set<string> | undefined;
  let values: Set<string> | undefined;
  return (value) => {
    words ??= new Set(extractWords(purpose));
    values ??= new Set(extractValues(purpose).map((v) => `${v.kind}\u0000${v.value}`));
    const name = argumentWords(value, MAX_NAME_WORDS);
    if (name && name.length > 0 && name.every((w) => words!.has(w))) return true;
    return extractValues(value).some((v) => values!.has(`${v.kind}\u0000${v.value}`));
  };
}
