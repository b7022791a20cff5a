import { LITERAL_WINDOW, LiteralSet } from './literal-set.js';

/**
 * Values shorter than this are not searched for. A short value occurs by chance in ordinary
 * text, so it would redact innocent words; and each redaction tells the reader "this string is
 * the secret", so an agent could learn a short secret by guessing and watching what is hidden.
 * Real injected credentials (API keys, tokens, passwords from a vault) are far longer.
 */
export const MIN_KNOWN_VALUE_LENGTH = LITERAL_WINDOW;

/** How a known value was written where it was found. */
export type KnownValueEncoding = 'raw' | 'json' | 'url' | 'hex' | 'base64' | 'base64url';

/** One occurrence of a known value, `[start, end)` in UTF-16 code units. */
export interface KnownValueMatch {
  readonly start: number;
  readonly end: number;
  readonly encoding: KnownValueEncoding;
}

const compiled = new WeakSet<object>();

/**
 * The live secret values Warden injected, compiled once into a matcher for them and their
 * common encodings. Build one per set of values (e.g. per upstream, when its secrets rotate)
 * and reuse it for every response: building costs far more than one search.
 */
export class KnownValues {
  private readonly set: LiteralSet;
  private readonly encodings: readonly KnownValueEncoding[];
  /** How many values are searched for (after dropping short and duplicate ones). */
  readonly values: number;

  private constructor(set: LiteralSet, encodings: readonly KnownValueEncoding[], values: number) {
    this.set = set;
    this.encodings = encodings;
    this.values = values;
    compiled.add(this);
  }

  /** @internal Use {@link compileKnownValues}. */
  static build(values: Iterable<string>): KnownValues {
    const seen = new Map<string, KnownValueEncoding>();
    let count = 0;
    for (const value of new Set(values)) {
      if (typeof value !== 'string') throw new TypeError('known values must be strings');
      if (value.length < MIN_KNOWN_VALUE_LENGTH) continue;
      count++;
      for (const [encoding, text] of encodingsOf(value)) {
        if (text.length >= LITERAL_WINDOW && !seen.has(text)) seen.set(text, encoding);
      }
    }
    return new KnownValues(new LiteralSet([...seen.keys()]), [...seen.values()], count);
  }

  /** Every occurrence of any value in any encoding; overlapping ones are all reported. */
  find(text: string): KnownValueMatch[] {
    return this.set.findAll(text).map((m) => ({ start: m.start, end: m.end, encoding: this.encodings[m.pattern]! }));
  }
}

/**
 * Compiles the values Warden injected so responses and arguments can be searched for them.
 * Values under {@link MIN_KNOWN_VALUE_LENGTH} characters are ignored (see there why).
 */
export function compileKnownValues(values: Iterable<string>): KnownValues {
  return KnownValues.build(values);
}

/** True for a matcher made by {@link compileKnownValues}, not an object shaped like one. */
export function isKnownValues(value: unknown): value is KnownValues {
  return typeof value === 'object' && value !== null && compiled.has(value);
}

/** The spellings under which a value travels through JSON, URLs, headers and files. */
export function encodingsOf(value: string): [KnownValueEncoding, string][] {
  const bytes = Buffer.from(value, 'utf8');
  const out: [KnownValueEncoding, string][] = [['raw', value]];

  const json = JSON.stringify(value).slice(1, -1);
  out.push(['json', json]);
  // PHP escapes `/`, Python's json.dumps escapes all non-ASCII, and a JSON document carried in
  // a JSON string (an MCP text block holding JSON) is escaped twice.
  out.push(['json', json.replaceAll('/', '\\/')]);
  out.push(['json', json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)]);
  out.push(['json', JSON.stringify(json).slice(1, -1)]);

  // Percent-encoders disagree on which characters to leave alone and on hex case:
  // encodeURIComponent keeps !'()*, RFC 3986 strict encoding does not, Python's quote keeps `/`.
  const component = encodeURIComponent(value);
  const strict = component.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const keepSlash = strict.replaceAll('%2F', '/');
  for (const u of [component, strict, keepSlash]) {
    out.push(['url', u], ['url', u.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())]);
    if (value.includes(' ')) out.push(['url', u.replaceAll('%20', '+')]);
  }

  out.push(['hex', bytes.toString('hex')], ['hex', bytes.toString('hex').toUpperCase()]);

  // A value inside a longer base64 text (`Basic base64(user:secret)`, a base64-encoded file)
  // is spelled one of three ways, by its byte offset modulo 3. Keep only the characters that
  // depend on the value's bytes alone: the edges mix in the neighbours' bits.
  for (let shift = 0; shift < 3; shift++) {
    const enc = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const first = Math.ceil((shift * 8) / 6);
    const last = Math.floor(((shift + bytes.length) * 8) / 6);
    const core = enc.slice(first, last);
    out.push(['base64', core], ['base64url', core.replaceAll('+', '-').replaceAll('/', '_')]);
  }
  return out;
}
