/**
 * The normalized form of each kind of tracked value: one spelling per value, so that the value
 * an injected text names and the value an agent later passes match however each was written.
 * Every function returns null when its input is not a value of that kind.
 */
import { isHostName } from './host-names.js';

const WEB_PROTOCOLS = new Set(['http:', 'https:']);
const OTHER_PROTOCOLS = new Set(['ftp:', 'ftps:', 'sftp:', 'ws:', 'wss:']);
// Values that fill a party field without naming anyone.
const NOT_NAMES = new Set(['null', 'none', 'nil', 'true', 'false', 'undefined', 'unknown', 'me', 'you', 'us']);

/** `Desk@Example.COM`, `mailto:desk@example.com` → `desk@example.com`. */
export function normalizeEmail(text: string): string | null {
  let s = text.trim();
  if (/^mailto:/i.test(s)) s = s.slice(7);
  const at = s.lastIndexOf('@');
  if (at < 1) return null;
  const local = s.slice(0, at).replace(/^\.+/, '');
  const host = s.slice(at + 1).replace(/\.$/, '');
  if (local.length === 0 || local.length > 64 || !/^[A-Za-z0-9._%+-]+$/.test(local)) return null;
  if (!isHostName(host)) return null;
  // The local part is case-sensitive in RFC 5321 §2.4, but no mail system in use treats it so;
  // folding it keeps `Desk@` and `desk@` one address.
  return `${local}@${host}`.toLowerCase();
}

/** `WWW.Example.com.` → `example.com`: lower case, no trailing dot, no leading `www.`. */
export function normalizeDomain(host: string): string | null {
  let h = host.toLowerCase().replace(/\.$/, '');
  // `www.` names the same site in practice, and injected text often adds or drops it.
  if (h.startsWith('www.') && h.indexOf('.', 4) > 0) h = h.slice(4);
  return h.length > 0 ? h : null;
}

/** A URL's normalized form and its host as a domain. */
export interface NormalizedUrl {
  /** Host, non-default port and path without trailing slash; `scheme://` kept unless http(s). */
  readonly url: string;
  /** The host, normalized as by {@link normalizeDomain}. */
  readonly domain: string;
}

/**
 * `HTTPS://WWW.Example.com/Path/?q=1#top` → `{ url: 'example.com/Path', domain: 'example.com' }`.
 * A string without a scheme is read as `http://`. http and https fold together, since an
 * injected `www.example.com/collect` and an agent's `https://example.com/collect` name the same
 * endpoint; the query and fragment are dropped, since an agent fills them with the data it sends.
 * The path keeps its case (paths are case-sensitive).
 */
export function normalizeUrl(text: string): NormalizedUrl | null {
  let u: URL;
  try {
    u = new URL(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text) ? text : `http://${text}`);
  } catch {
    return null;
  }
  const web = WEB_PROTOCOLS.has(u.protocol);
  if (!web && !OTHER_PROTOCOLS.has(u.protocol)) return null;
  const domain = u.hostname ? normalizeDomain(u.hostname) : null;
  if (!domain) return null;
  const port = u.port ? `:${u.port}` : '';
  const path = u.pathname.replace(/\/+$/, '');
  return { url: `${web ? '' : `${u.protocol}//`}${domain}${port}${path}`, domain };
}

/** `nl09 wrdn-0417…` → `NL09WRDN0417…`: no spaces or dashes, upper case. */
export function normalizeIban(text: string): string {
  return text.replace(/[\s-]/g, '').toUpperCase();
}

/** ISO 13616 / ISO 7064 mod 97-10 check of a normalized IBAN. */
export function ibanChecksumOk(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    // Letters count as two digits (A = 10 … Z = 35), per ISO 13616-1 §7.
    rem = c >= 65 ? (rem * 100 + (c - 55)) % 97 : (rem * 10 + (c - 48)) % 97;
  }
  return rem === 1;
}

/** `+41 (79) 123-45-67` → `+41791234567`; `079 123 45 67` → `0791234567`. */
export function normalizePhone(text: string): string {
  const digits = text.replace(/\D/g, '');
  return /^\(?\+/.test(text.trimStart()) ? `+${digits}` : digits;
}

/** `4111 1111-1111 1111` → `4111111111111111`. */
export function normalizeAccount(text: string): string {
  return text.replace(/[\s-]/g, '').toUpperCase();
}

/**
 * `@Quentin`, ` quentin ` → `quentin`; `Otto  Example` → `otto example`. A handle is a short name of a
 * person or place (one to four words, with a letter); anything else is not one.
 */
export function normalizeHandle(text: string): string | null {
  const s = foldWord(text.trim().replace(/^@/, '')).replace(/\s+/g, ' ');
  if (s.length < 2 || s.length > 64 || NOT_NAMES.has(s)) return null;
  if (!/^[\p{L}\p{N}_][\p{L}\p{N}\p{M}_ .'’-]*$/u.test(s) || !/\p{L}/u.test(s)) return null;
  return s.split(' ').length <= 4 ? s : null;
}

/** Case-folds a word for the token index: NFKC (fullwidth → ASCII, ligatures split), lower case. */
export function foldWord(word: string): string {
  return word.normalize('NFKC').toLowerCase();
}
