/**
 * Finds tracked values in free text. Tool results reach a few hundred KB and are attacker
 * written, so every pattern here runs in time linear in the text: no quantified group repeats
 * another quantifier, each pattern starts only where a lookbehind says a value may begin (so
 * the runs tried from different starts do not overlap), and each run is bounded. Candidates
 * are then checked in code, where the rules are easier to read than in a regex.
 */
import { isAddressHost, isBareHostName, isHostName } from './host-names.js';
import { ibanChecksumOk, normalizeDomain, normalizeEmail, normalizeHandle, normalizeIban, normalizePhone, normalizeUrl } from './normalize.js';
import { isPartyKey } from './party-keys.js';
import type { TrackedKind } from './tracked-value.js';

/** Receives each value found; returns false when no more are wanted. */
export type ValueSink = (kind: TrackedKind, value: string) => boolean;

const EMAIL_RE = /(?<![\w.%+-])[\w.%+-]{1,64}@[A-Za-z0-9][A-Za-z0-9.-]{0,252}/g;
const URL_RE = /\b(?:https?|ftps?|sftp|wss?):\/\/[^\s<>"'`{}|\\^[\]]{1,2048}/gi;
// A dotted word not inside a URL, an address or a path, with an optional path after it.
const BARE_HOST_RE = /(?<![\w.@/%+-])[A-Za-z0-9][A-Za-z0-9-]{0,62}\.[A-Za-z0-9.-]{1,190}(?:\/[^\s<>"'`{}|\\^[\]]{0,2048})?/g;
// ISO 13616: country, check digits, 11–30 alphanumerics, optionally in space- or dash-separated groups.
const IBAN_RE = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,30}(?![A-Za-z0-9])/g;
// A run of digits with phone or card separators; not part of a word, a decimal, a time or a path.
const NUMBER_RE = /(?<![\w.,+/-]|\d:)(?:\+|\(\+?)?\d[\d ().-]{6,30}\d(?!\w|[.,/:-]\d)/g;
const MENTION_RE = /(?<![\w.@/+-])@([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})/g;
// `sender: Mirela`, `  - "to": "otto",` — YAML, headers and pretty-printed JSON, one pair a line.
const PARTY_LINE_RE = /^[ \t]*(?:-[ \t]+)?["']?([A-Za-z][A-Za-z0-9_-]{0,39})["']?[ \t]*:[ \t]*([^\r\n]{1,256})$/gm;

const FORMAT_CHARS = /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g;

/**
 * Undoes cheap disguises before searching, so that the text an agent reads and the values it
 * then writes match: NFKC (fullwidth `ｅｘａｍｐｌｅ．ｃｏｍ`), invisible format characters inside a
 * value, and defanging (`hxxp://`, `evil[.]example`, `name(at)example.com`).
 */
export function prepareText(text: string): string {
  let s = text;
  if (/[^\x00-\x7f]/.test(s)) s = s.normalize('NFKC').replace(FORMAT_CHARS, '');
  if (/hxxp|[[(](?:dot|at|\.|@)[\])]/i.test(s)) {
    s = s
      .replace(/hxxp/gi, 'http')
      .replace(/ ?[[(](?:dot|\.)[\])] ?/gi, '.')
      .replace(/ ?[[(](?:at|@)[\])] ?/gi, '@');
  }
  return s;
}

/** Runs every pattern over `text` (already {@link prepareText}ed); stops when `sink` says so. */
export function findInText(text: string, sink: ValueSink): void {
  const ibans: [number, number][] = [];
  findEmails(text, sink) &&
    findUrls(text, sink) &&
    findBareHosts(text, sink) &&
    findIbans(text, sink, ibans) &&
    findNumbers(text, sink, ibans) &&
    findHandles(text, sink);
}

function findEmails(text: string, sink: ValueSink): boolean {
  for (const m of text.matchAll(EMAIL_RE)) {
    const at = m[0].indexOf('@');
    const host = trimHost(m[0].slice(at + 1), isAddressHost);
    const email = host && normalizeEmail(`${m[0].slice(0, at)}@${host}`);
    if (email && !sink('email', email)) return false;
  }
  return true;
}

function findUrls(text: string, sink: ValueSink): boolean {
  for (const m of text.matchAll(URL_RE)) {
    if (!emitUrl(trimUrl(m[0]), sink)) return false;
  }
  return true;
}

function findBareHosts(text: string, sink: ValueSink): boolean {
  for (const m of text.matchAll(BARE_HOST_RE)) {
    const next = text[m.index + m[0].length];
    if (next === '(' || next === '@') continue; // a call `obj.method(` or an address's local part
    const slash = m[0].indexOf('/');
    const hasPath = slash > 0 && trimUrl(m[0].slice(slash)).length > 1;
    // With a path, the host ends at the slash; without, a sentence may have run into it.
    const host = hasPath ? m[0].slice(0, slash).replace(/[.-]+$/, '') : trimHost(slash > 0 ? m[0].slice(0, slash) : m[0], (h) => isBareHostName(h, false));
    if (!host || (hasPath && !isBareHostName(host, true))) continue;
    const ok = hasPath ? emitUrl(host + trimUrl(m[0].slice(slash)), sink) : sink('domain', normalizeDomain(host)!);
    if (!ok) return false;
  }
  return true;
}

function emitUrl(candidate: string, sink: ValueSink): boolean {
  const u = normalizeUrl(candidate);
  if (!u) return true;
  // With no path the URL says no more than its host: one value, not two equal ones.
  if (u.url !== u.domain && !sink('url', u.url)) return false;
  return sink('domain', u.domain);
}

/** Drops punctuation that ends the sentence around a URL; a `)` only when unbalanced. */
function trimUrl(url: string): string {
  // Counted once: recounting per dropped character would be quadratic on `))))…`.
  let open = 0;
  let close = 0;
  for (const c of url) {
    if (c === '(') open++;
    else if (c === ')') close++;
  }
  let end = url.length;
  for (; end > 0; end--) {
    const c = url[end - 1]!;
    if (c === ')') {
      if (close <= open) break;
      close--;
    } else if (!'.,;:!?\'"]}>*'.includes(c)) break;
  }
  return url.slice(0, end);
}

/**
 * The longest dotted prefix of `host` that `accept`s, trailing dots and dashes removed:
 * `www.example.com.Next` (a sentence missing its space) gives `www.example.com`.
 */
function trimHost(host: string, accept: (h: string) => boolean): string | null {
  let h = host.replace(/[.-]+$/, '');
  for (;;) {
    if (accept(h)) return h;
    const dot = h.lastIndexOf('.');
    if (dot < 0 || h.indexOf('.') === dot) return null;
    h = h.slice(0, dot).replace(/-+$/, '');
  }
}

/** Also records where each IBAN match lies, in order, so its digit groups are not read again as numbers. */
function findIbans(text: string, sink: ValueSink, spans: [number, number][]): boolean {
  for (const m of text.matchAll(IBAN_RE)) {
    spans.push([m.index, m.index + m[0].length]);
    const iban = ibanOf(m[0]);
    if (iban && !sink('iban', iban)) return false;
  }
  return true;
}

/**
 * The IBAN in a match. Written with separators (the ISO 13616 paper format), it is groups of
 * four, the last possibly shorter; a group that breaks that shape starts the next word. Among
 * the group-aligned prefixes, the longest that passes mod 97 wins; when none does, the whole
 * run is kept by its shape: an attacker's account in injected text need not be a valid one,
 * and an agent will copy it exactly as written.
 */
function ibanOf(match: string): string | null {
  const groups = match.split(/[ -]/);
  if (groups.length === 1) return match;
  if (groups[0]!.length >= 15) return groups[0]!; // electronic format, then another word
  let n = 0;
  while (n < groups.length && groups[n]!.length <= 4 && (n === 0 || groups[n - 1]!.length === 4)) n++;
  for (let k = n; k > 0; k--) {
    const iban = normalizeIban(groups.slice(0, k).join(''));
    if (iban.length >= 15 && ibanChecksumOk(iban)) return iban;
  }
  const iban = normalizeIban(groups.slice(0, n).join(''));
  return iban.length >= 15 && /^[A-Z]{2}\d{2}/.test(iban) ? iban : null;
}

function findNumbers(text: string, sink: ValueSink, ibans: readonly [number, number][]): boolean {
  let i = 0;
  for (const m of text.matchAll(NUMBER_RE)) {
    // Both lists are in text order: skip the IBANs that end before this run, then see whether
    // the next one holds its start (a run cannot start before an IBAN's letters and reach in).
    while (i < ibans.length && ibans[i]![1] <= m.index) i++;
    if (i < ibans.length && ibans[i]![0] <= m.index) continue;
    for (const [kind, value] of numbersOf(m[0])) if (!sink(kind, value)) return false;
  }
  return true;
}

/**
 * What a run of digits is. A phone number: E.164 with `+` (8–15 digits), the North American
 * `(555) 123-4567` shape, or a national number with a trunk `0` and separators. An account:
 * 8–32 digits in one run, or card-style groups of four. Anything else (dates, amounts with
 * separators, tables of small numbers) is not tracked, except the long plain runs inside it.
 */
function numbersOf(run: string): [TrackedKind, string][] {
  const digits = run.replace(/\D/g, '');
  if (/^\(?\+/.test(run)) return digits.length >= 8 && digits.length <= 15 ? [['phone', normalizePhone(run)]] : [];
  if (/^\d{8,32}$/.test(run)) return [['account', run]];
  if (/^(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}$/.test(run)) return [['phone', digits]];
  const groups = run.split(/[ .-]/);
  const rest = groups.slice(1);
  if (/^\(?0\d{1,4}\)?$/.test(groups[0]!) && rest.length >= 2 && rest.length <= 5 && rest.every((g) => /^\d{2,4}$/.test(g))) {
    return digits.length >= 9 && digits.length <= 13 ? [['phone', digits]] : [];
  }
  if (isCardLike(run, groups)) return [['account', digits]];
  return groups.filter((part) => /^\d{8,32}$/.test(part)).map((part) => ['account', part]);
}

/** Three to eight groups of four digits, then maybe a shorter one, all with the same separator. */
function isCardLike(run: string, groups: readonly string[]): boolean {
  const last = groups.at(-1)!;
  const full = /^\d{4}$/.test(last) ? groups : groups.slice(0, -1);
  if (full.length < 3 || full.length > 8 || !full.every((g) => /^\d{4}$/.test(g)) || !/^\d{1,4}$/.test(last)) return false;
  return new Set(run.match(/[ .-]/g)).size === 1 && !run.includes('.');
}

function findHandles(text: string, sink: ValueSink): boolean {
  for (const m of text.matchAll(MENTION_RE)) {
    const handle = normalizeHandle(m[1]!.replace(/[.-]+$/, ''));
    if (handle && !sink('handle', handle)) return false;
  }
  for (const m of text.matchAll(PARTY_LINE_RE)) {
    if (!isPartyKey(m[1]!)) continue;
    const handle = handleOf(m[2]!);
    if (handle && !sink('handle', handle)) return false;
  }
  return true;
}

/**
 * A party's name from the value of a `key: value` line or a JSON string under a party key.
 * An account, a phone number or a host there is tracked as such, not a second time as a name.
 */
export function handleOf(value: string): string | null {
  let v = value.trim().replace(/[,;]$/, '').trim();
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0]) v = v.slice(1, -1);
  const compact = v.replace(/[ -]/g, '');
  if (/^[A-Za-z]{2}\d{2}[A-Za-z0-9]{11,30}$/.test(compact) || /^\+?[\d().]+$/.test(compact) || isHostName(v)) return null;
  return normalizeHandle(v);
}
