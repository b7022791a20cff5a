import { createHmac, randomBytes } from 'node:crypto';
import { WardenError } from '../../errors/warden-error.js';
import { MAX_VALUES_PER_EXTRACTION, collectValues, valuesOfLeaf } from './extract.js';
import { MAX_STATE_DIGESTS, ProvenanceLedgerStateSchema, type ProvenanceLedgerState } from './ledger-state.js';
import { foldWord } from './normalize.js';
import { isPartyKey } from './party-keys.js';
import type { TrackedKind, TrackedValue } from './tracked-value.js';
import { walkLeaves } from './walk.js';
import { MIN_WORD_LENGTH, argumentWords, collectWords } from './words.js';

/** Where content came from: the person (the task's purpose) or a trusted tool, or anywhere else. */
export type Trust = 'trusted' | 'untrusted';

/** What tied an argument to untrusted content: a tracked value, or a plain `word`. */
export type ProvenanceKind = TrackedKind | 'word';

/** How many digests a ledger keeps; see {@link ProvenanceLedger} for what happens beyond. */
export interface ProvenanceLimits {
  /** Value digests, trusted and untrusted together. */
  readonly maxValues: number;
  /** Word digests, trusted and untrusted together. */
  readonly maxWords: number;
}

/** 20,000 of each: about 1 MB of JSON per task at most, far above what real tasks read. */
export const DEFAULT_PROVENANCE_LIMITS: ProvenanceLimits = { maxValues: 20_000, maxWords: 20_000 };

/** An argument that carries content seen only in untrusted content, and what tied it. */
export interface ProvenanceFinding {
  readonly path: string;
  readonly kinds: readonly ProvenanceKind[];
}

/** The provenance of a call's arguments. */
export interface ProvenanceClassification {
  /**
   * Paths (`recipient`, `to[0]`, `message.body`) of the arguments that carry a tracked value
   * seen in untrusted content and never in trusted content — anywhere in them, so a long body
   * containing such a URL is listed — and of the party arguments (`user`, `recipient`, …) whose
   * short name is a word only untrusted content used.
   */
  readonly fromUntrusted: string[];
  /** Per path in `fromUntrusted`, the kinds of what tied it. */
  readonly details: ProvenanceFinding[];
  /**
   * Weaker evidence, kept apart: paths of other one-word arguments (not party arguments, so
   * often an enum or a mode) whose word only untrusted content used.
   */
  readonly wordsFromUntrusted: string[];
  /**
   * True when the ledger refused untrusted digests at its limits, or untrusted content had more
   * values or words than one extraction takes: an argument missing from
   * `fromUntrusted` may still come from untrusted content, and a cautious policy treats it so.
   */
  readonly incomplete: boolean;
}

/** Options of {@link ProvenanceLedger}. */
export interface ProvenanceLedgerOptions {
  /** The HMAC key, 32 bytes; a fresh random one by default. */
  readonly key?: Uint8Array;
  readonly limits?: Partial<ProvenanceLimits>;
}

const KEY_BYTES = 32;
// A party argument of up to this many words is looked up word by word (`Otto Example`).
const MAX_PARTY_WORDS = 4;

/**
 * What one task has seen, by keyed digest: the tracked values and the words of trusted
 * content (the person's request, trusted tools' results) and of untrusted content. A call's
 * argument is from untrusted content when it carries something seen untrusted and never trusted.
 *
 * Digests are HMAC-SHA-256 under a per-ledger random key, truncated to 16 bytes: plaintext is
 * never kept, and a stolen state cannot be matched against another task's or a precomputed table.
 *
 * Bounds: beyond {@link ProvenanceLimits}, new digests are refused, not the oldest dropped.
 * Dropping the oldest would let an attacker flush the evidence of an earlier injection by
 * padding a later result; refusing keeps what was seen first and sets `incomplete` on every
 * classification after an untrusted digest was refused, so callers can fail closed. A trusted
 * digest removes the same untrusted one (it no longer matters), which frees room.
 */
export class ProvenanceLedger {
  private readonly key: Buffer;
  private readonly limits: ProvenanceLimits;
  private readonly trusted = new Set<string>();
  private readonly untrusted = new Set<string>();
  private readonly trustedWords = new Set<string>();
  private readonly untrustedWords = new Set<string>();
  /** The words of the person's own request (never persisted: the purpose is read again at load). */
  private readonly purposeWords = new Set<string>();
  private overflow = false;

  constructor(options: ProvenanceLedgerOptions = {}) {
    if (options.key !== undefined && options.key.length !== KEY_BYTES) throw new TypeError('a provenance key has 32 bytes');
    this.key = options.key ? Buffer.from(options.key) : randomBytes(KEY_BYTES);
    this.limits = { ...DEFAULT_PROVENANCE_LIMITS, ...options.limits };
    for (const n of [this.limits.maxValues, this.limits.maxWords]) {
      if (!Number.isSafeInteger(n) || n < 0 || n > MAX_STATE_DIGESTS) throw new TypeError(`provenance limits are integers from 0 to ${MAX_STATE_DIGESTS}`);
    }
  }

  /**
   * A ledger from {@link toJSON}'s output, which comes back from storage and is checked like
   * any input. Digests beyond `limits` are refused as in {@link observe}.
   * @throws WardenError `INTERNAL` when the state is malformed
   */
  static fromJSON(state: unknown, limits?: Partial<ProvenanceLimits>): ProvenanceLedger {
    const parsed = ProvenanceLedgerStateSchema.safeParse(state);
    if (!parsed.success) throw new WardenError('INTERNAL', { reason: 'provenance ledger state is malformed' }, { cause: parsed.error });
    const s = parsed.data;
    const ledger = new ProvenanceLedger({ key: Buffer.from(s.key, 'base64url'), ...(limits ? { limits } : {}) });
    ledger.overflow = s.overflowed;
    for (const d of s.trusted) ledger.addValue(d, 'trusted');
    for (const d of s.untrusted) ledger.addValue(d, 'untrusted');
    for (const d of s.trustedWords) ledger.addWord(d, 'trusted');
    for (const d of s.untrustedWords) ledger.addWord(d, 'untrusted');
    return ledger;
  }

  /** The state to persist; {@link fromJSON} reads it back. Holds the key: store it as task data. */
  toJSON(): ProvenanceLedgerState {
    return {
      v: 1,
      key: this.key.toString('base64url'),
      trusted: [...this.trusted],
      untrusted: [...this.untrusted],
      trustedWords: [...this.trustedWords],
      untrustedWords: [...this.untrustedWords],
      overflowed: this.overflow,
    };
  }

  /** How many digests the ledger holds, values and words together. */
  get size(): number {
    return this.trusted.size + this.untrusted.size + this.trustedWords.size + this.untrustedWords.size;
  }

  /** True once an untrusted digest was refused at a limit or cut off at extraction. */
  get overflowed(): boolean {
    return this.overflow;
  }

  /** Remembers values (from {@link extractValues}) as seen in content of this trust. */
  observe(values: Iterable<TrackedValue>, trust: Trust): void {
    checkTrust(trust);
    for (const v of values) for (const k of matchKeys(v)) this.addValue(this.digest('v', k), trust);
  }

  /** Remembers words (from `extractWords`) as seen in content of this trust. */
  observeWords(words: Iterable<string>, trust: Trust): void {
    checkTrust(trust);
    for (const w of words) this.addWord(this.digest('w', foldWord(w)), trust);
  }

  /** Remembers the values and words of any content: a tool's result, a document. */
  observeContent(content: unknown, trust: Trust): void {
    const values = collectValues(content);
    const words = collectWords(content);
    this.observe(values.values, trust);
    this.observeWords(words.words, trust);
    // Content cut off at the extraction limit holds values this ledger will never match.
    if (trust === 'untrusted' && (values.truncated || words.truncated)) this.overflow = true;
  }

  /**
   * Takes back the trust this ledger holds for the values and words of `content`, leaving them
   * as untrusted as they were: a trusted tool's answer that repeats what the call carried from
   * untrusted content (an error quoting its argument, a record of what was just written) does not
   * vouch for it. Meant for a ledger holding one result, before it is merged.
   */
  withhold(content: unknown): void {
    for (const v of collectValues(content).values) for (const k of matchKeys(v)) this.trusted.delete(this.digest('v', k));
    for (const w of collectWords(content).words) this.trustedWords.delete(this.digest('w', foldWord(w)));
  }

  /** Remembers the task's purpose, the person's own request: trusted by definition. */
  observePurpose(text: string): void {
    this.observeContent(text, 'trusted');
    for (const w of collectWords(text).words) this.purposeWords.add(this.digest('w', w));
  }

  /** Which of a call's arguments carry something seen only in untrusted content. */
  classify(args: Record<string, unknown>): ProvenanceClassification {
    const found = new Map<string, Set<ProvenanceKind>>();
    const weak = new Set<string>();
    const flag = (path: string, kind: ProvenanceKind): void => {
      const kinds = found.get(path) ?? new Set();
      kinds.add(kind);
      found.set(path, kinds);
    };
    let budget = MAX_VALUES_PER_EXTRACTION;
    const untrustedEmails = new Map<string, string[]>();
    const ownerNames: { path: string; words: string[] }[] = [];
    walkLeaves(args, (leaf, key, path) => {
      valuesOfLeaf(leaf, key, (kind, value) => {
        if (this.untrustedOnly({ kind, value })) {
          flag(path, kind);
          if (kind === 'email') {
            const emails = untrustedEmails.get(path);
            if (emails) emails.push(value);
            else untrustedEmails.set(path, [value]);
          }
        }
        return --budget > 0;
      });
      if (typeof leaf === 'string') {
        const party = key !== undefined && isPartyKey(key);
        const words = argumentWords(leaf, party ? MAX_PARTY_WORDS : 1);
        // A party named by words the person wrote may own an address in the same call (below).
        if (party && words && words.length > 0 && words.every((w) => this.purposeWords.has(this.digest('w', w)))) ownerNames.push({ path, words });
        if (words?.some((w) => this.wordUntrustedOnly(w))) {
          if (party) flag(path, 'word');
          else weak.add(path);
        }
      }
      return budget > 0;
    });
    // An address the call gives to an owner it names by a name the person wrote, and which is
    // made of that name (`user: Dora`, `email: dora@…`), is the person's: they asked for that
    // owner's address. Any other part in it (`dora.x@…`, `dora9246@…`) and it stays outside text.
    for (const [path, emails] of untrustedEmails) {
      const owned = emails.every((e) => ownerNames.some((o) => o.path !== path && madeOfName(e, o.words)));
      const kinds = found.get(path);
      if (owned && kinds) {
        kinds.delete('email');
        if (kinds.size === 0) found.delete(path);
      }
    }
    const details = [...found].map(([path, kinds]) => ({ path, kinds: [...kinds] }));
    return {
      fromUntrusted: details.map((d) => d.path),
      details,
      wordsFromUntrusted: [...weak].filter((p) => !found.has(p)),
      incomplete: this.overflow,
    };
  }

  /**
   * Adds what `other` has seen to this ledger. Both must share a key (a copy of this ledger
   * updated elsewhere, e.g. by another replica): digests under different keys never match.
   */
  merge(other: ProvenanceLedger): void {
    if (!this.key.equals(other.key)) throw new TypeError('only ledgers with the same key can be merged');
    for (const d of other.trusted) this.addValue(d, 'trusted');
    for (const d of other.untrusted) this.addValue(d, 'untrusted');
    for (const d of other.trustedWords) this.addWord(d, 'trusted');
    for (const d of other.untrustedWords) this.addWord(d, 'untrusted');
    this.overflow ||= other.overflow;
  }

  private untrustedOnly(v: TrackedValue): boolean {
    let untrusted = false;
    for (const k of matchKeys(v)) {
      const d = this.digest('v', k);
      if (this.trusted.has(d)) return false;
      untrusted ||= this.untrusted.has(d);
    }
    // A name is only a handle where a structure says so; the person writes names in prose.
    // So a handle whose every word the person (or a trusted result) used is trusted.
    if (untrusted && v.kind === 'handle') {
      const words = v.value.split(' ').filter((w) => w.length >= MIN_WORD_LENGTH);
      if (words.length > 0 && words.every((w) => this.trustedWords.has(this.digest('w', w)))) return false;
    }
    return untrusted;
  }

  private wordUntrustedOnly(word: string): boolean {
    const d = this.digest('w', word);
    return this.untrustedWords.has(d) && !this.trustedWords.has(d);
  }

  private addValue(d: string, trust: Trust): void {
    add(d, trust, this.trusted, this.untrusted, this.limits.maxValues, () => (this.overflow = true));
  }

  private addWord(d: string, trust: Trust): void {
    add(d, trust, this.trustedWords, this.untrustedWords, this.limits.maxWords, () => (this.overflow = true));
  }

  private digest(domain: 'v' | 'w', text: string): string {
    // The domain byte keeps a value and a word with the same text apart.
    return createHmac('sha256', this.key).update(`${domain}\u0000${text}`).digest().subarray(0, 16).toString('base64url');
  }
}

/** Whether an address's local part is one or more words of `name` (folded), joined by `.`, `_` or `-`. */
function madeOfName(email: string, name: readonly string[]): boolean {
  const local = email.slice(0, email.lastIndexOf('@'));
  const parts = local.split(/[._-]/);
  return parts.length > 0 && parts.every((p) => /^\p{L}+$/u.test(p) && name.includes(foldWord(p)));
}

function add(d: string, trust: Trust, trusted: Set<string>, untrusted: Set<string>, max: number, overflowed: () => void): void {
  if (trusted.has(d)) return; // seen trusted: untrusted sightings no longer matter
  if (trust === 'trusted') {
    const freed = untrusted.delete(d);
    if (freed || trusted.size + untrusted.size < max) trusted.add(d);
    return; // a refused trusted digest only makes classification stricter
  }
  if (untrusted.has(d)) return;
  if (trusted.size + untrusted.size < max) untrusted.add(d);
  else overflowed();
}

/**
 * The spellings under which a value is looked up. A phone number written with its country
 * code (`+41…`) is also the same digits without `+`, as an agent may pass it.
 */
function matchKeys(v: TrackedValue): string[] {
  return v.kind === 'phone' && v.value.startsWith('+') ? [v.value, v.value.slice(1)] : [v.value];
}

function checkTrust(trust: Trust): void {
  if (trust !== 'trusted' && trust !== 'untrusted') throw new TypeError("trust is 'trusted' or 'untrusted'");
}
