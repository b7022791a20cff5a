/**
 * Second checks a detector runs on a regex match before reporting it. A format regex alone
 * fires on look-alikes (commit hashes, base64 blobs, placeholders in docs); these checks use
 * what the credential format guarantees — a checksum, a decodable structure, randomness — to
 * drop them. Every check is linear in the length of the match and never throws.
 */

const asciiCounts = new Int32Array(128);

/** Shannon entropy of the string's characters, in bits per character. */
export function shannonEntropy(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  // Validators run on every candidate, so the common all-ASCII case uses a flat array.
  const counts = asciiCounts;
  counts.fill(0);
  let other: Map<number, number> | undefined;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) counts[c] = counts[c]! + 1;
    else {
      other ??= new Map();
      other.set(c, (other.get(c) ?? 0) + 1);
    }
  }
  let bits = 0;
  for (let c = 0; c < 128; c++) {
    const k = counts[c]!;
    if (k > 0) bits -= (k / n) * Math.log2(k / n);
  }
  if (other) for (const k of other.values()) bits -= (k / n) * Math.log2(k / n);
  return bits;
}

/** True when the string has at least one ASCII upper-case and one lower-case letter. */
export function hasMixedCase(s: string): boolean {
  return /[A-Z]/.test(s) && /[a-z]/.test(s);
}

/** True when the string has at least one ASCII letter and one digit. */
export function hasLetterAndDigit(s: string): boolean {
  return /[A-Za-z]/.test(s) && /[0-9]/.test(s);
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zlib) of the string's Latin-1 code units; callers pass ASCII. */
export function crc32(s: string): number {
  // zlib.crc32 only exists from Node 20.15; the table is 1 KiB and built once.
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < s.length; i++) crc = crcTable[(crc ^ s.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `n` in base 62 (digits, upper, lower), left-padded with `0` to `width`. */
export function base62(n: number, width: number): string {
  let out = '';
  let v = n;
  do {
    out = BASE62[v % 62]! + out;
    v = Math.floor(v / 62);
  } while (v > 0);
  return out.padStart(width, '0');
}

/**
 * The checksum of GitHub's and npm's token formats: `<prefix>_<30 random base62><6 check>`,
 * where the check is the CRC-32 of the random part in base 62. A random 36-character string
 * passes with odds of about 1 in 4·10⁹, so a failing candidate is not that kind of token.
 * See "Behind GitHub's new authentication token formats" (github.blog, 2021-04-05) and
 * "Announcing npm's new access token format" (github.blog, 2021-09-23).
 */
export function prefixedTokenChecksumOk(token: string): boolean {
  const underscore = token.lastIndexOf('_');
  const body = token.slice(underscore + 1);
  if (body.length !== 36) return false;
  return base62(crc32(body.slice(0, 30)), 6) === body.slice(30);
}

/** Bytes a standard or URL-safe base64 string decodes to, or -1 when it is not base64. */
export function base64ByteLength(s: string): number {
  const body = s.replace(/={1,2}$/, '');
  if (!/^[A-Za-z0-9+/_-]*$/.test(body) || body.length % 4 === 1) return -1;
  return Math.floor((body.length * 6) / 8);
}

/** Decodes `%XX` escapes; returns null for a malformed escape instead of throwing. */
export function percentDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/**
 * RFC 7519 §7.2: a JWT's first part is the base64url of a JSON object header, and RFC 7515
 * §4.1.1 makes `alg` mandatory in it. Random base64url text almost never decodes to that.
 */
export function isJwtHeader(part: string): boolean {
  if (part.length > 4096) return false;
  try {
    const header: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header) && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

// Values that sit where a secret goes in documentation, templates and sample configs.
const PLACEHOLDER_WORDS =
  /^(?:password|passwd|pass|pwd|secret|changeme|change_me|example|sample|test|dummy|placeholder|redacted|masked|hidden|null|none|nil|undefined|true|false|your[_-]?\w*|xxx+|\*+|\.+|-+|_+)$/i;

/**
 * True when a candidate value is a placeholder, a template or variable reference, or Warden's
 * own redaction marker — so scanning redacted output again finds nothing.
 */
export function isPlaceholder(value: string): boolean {
  if (PLACEHOLDER_WORDS.test(value)) return true;
  if (/^(.)\1*$/.test(value)) return true; // one character repeated: "aaaaaaaa", "00000000"
  // ${VAR}, {{ var }}, <password>, %(name)s, %s, $VAR, [REDACTED:…], process.env.X, os.environ[…]
  return /\$\{|\{\{|^<.*>$|%\(|^%s$|^\$[A-Z_]+$|\[REDACTED|process\.env|os\.environ|getenv/i.test(value);
}

/**
 * True when a value assigned to a secret-sounding name looks like a real secret rather than a
 * word, a path, a URL or a placeholder: the rule for the low-confidence generic detectors.
 */
export function looksLikeSecretValue(value: string, maxLength = 512): boolean {
  if (value.length < 8 || value.length > maxLength) return false;
  // Cheapest and most telling first: validators run on every candidate of a hostile input.
  // Short secrets cannot reach high per-character entropy: log2(length) bounds it.
  if (shannonEntropy(value) < Math.min(3.5, Math.log2(value.length) - 0.5)) return false;
  // A short value needs more kinds of character to stand out from words like strict-mode.
  if (characterClasses(value) < (value.length < 16 ? 3 : 2)) return false;
  if (/^(?:\/|\.\.?\/|[a-z][a-z0-9+.-]*:\/\/)/i.test(value)) return false; // a path or a URL, not a credential
  if (/^[0-9.,:-]+$/.test(value)) return false; // numbers, dates, versions
  // Code, not a value: a member chain (`options.privateKey`, `init?.credentials`, cut off
  // before a bracket as `m.groups?.`) or a
  // digit-free identifier (`pemEncodedPassword`). Random secrets almost always hold a digit.
  if (/^[A-Za-z_$#][\w$]*(?:\??\.[A-Za-z_$#][\w$]*)+(?:\??\.)?$/.test(value) || /^[A-Za-z_$]+$/.test(value)) return false;
  return !isPlaceholder(value);
}

/** How many of lower-case, upper-case, digit and other characters the string has. */
function characterClasses(s: string): number {
  let mask = 0;
  for (let i = 0; i < s.length && mask !== 15; i++) {
    const c = s.charCodeAt(i);
    mask |= c >= 97 && c <= 122 ? 1 : c >= 65 && c <= 90 ? 2 : c >= 48 && c <= 57 ? 4 : 8;
  }
  return (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1) + ((mask >> 3) & 1);
}

/** True when `re` (not global) matches within `radius` characters before `start` or after `end`. */
export function nearby(text: string, start: number, end: number, radius: number, re: RegExp): boolean {
  return re.test(text.slice(Math.max(0, start - radius), Math.min(text.length, end + radius)));
}
