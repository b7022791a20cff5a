/**
 * Argument provenance for flow control (DESIGN.md "Flow control"): which of a call's arguments
 * carry a value (an address, a URL, an account, a name) that the task only ever saw in
 * untrusted content. `classify(args).fromUntrusted` is what the policy context calls
 * `argsFromUntrusted`. Pure: no I/O; the ledger's state is persisted by whoever owns the task.
 *
 * Known limits, each a miss rather than a false alarm:
 * - a value the agent rewrites (spells out, translates, splits, re-encodes) no longer matches;
 * - subdomains do not match their parent (`mail.example.com` ≠ `example.com`), only `www.` folds;
 * - bare IP addresses, lower-case IBANs, national-format phone numbers without a trunk `0`,
 *   and generic ids are not tracked; a phone number with and without its country code differs;
 * - a bare `name.zip` or `name.mov` is read as a file, not a host (with a scheme it is a host);
 * - names of more than one word match only where a structure names a party (`sender: …`).
 */
export { TRACKED_KINDS, type TrackedKind, type TrackedValue } from './tracked-value.js';
export { extractValues, MAX_VALUES_PER_EXTRACTION } from './extract.js';
export { extractWords, MAX_WORDS_PER_EXTRACTION, MIN_WORD_LENGTH, MAX_WORD_LENGTH } from './words.js';
export {
  normalizeAccount,
  normalizeDomain,
  normalizeEmail,
  normalizeHandle,
  normalizeIban,
  normalizePhone,
  normalizeUrl,
  ibanChecksumOk,
  type NormalizedUrl,
} from './normalize.js';
export { isPartyKey } from './party-keys.js';
export {
  ProvenanceLedger,
  DEFAULT_PROVENANCE_LIMITS,
  type ProvenanceClassification,
  type ProvenanceFinding,
  type ProvenanceKind,
  type ProvenanceLedgerOptions,
  type ProvenanceLimits,
  type Trust,
} from './ledger.js';
export { ProvenanceLedgerStateSchema, MAX_STATE_DIGESTS, type ProvenanceLedgerState } from './ledger-state.js';
