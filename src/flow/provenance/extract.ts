/**
 * Finds the values worth tracking in any content: a tool's result, a call's arguments, the
 * person's request. See {@link extractValues}.
 */
import { findInText, handleOf, prepareText, type ValueSink } from './find-in-text.js';
import { isPartyKey } from './party-keys.js';
import type { TrackedKind, TrackedValue } from './tracked-value.js';
import { walkLeaves } from './walk.js';

/** At most this many distinct values are taken from one piece of content. */
export const MAX_VALUES_PER_EXTRACTION = 20_000;

// JSON numbers below this have fewer than 8 digits: amounts, counts and ids, not accounts.
const MIN_ACCOUNT_NUMBER = 10_000_000;

/**
 * The distinct tracked values in `input`, in order of first appearance, normalized (see
 * `normalize.ts`). `input` is any JSON value or plain text:
 *
 * - every string is searched for emails, URLs (and their hosts as domains), bare domains,
 *   IBANs, account and card numbers, phone numbers and `@handles`; a string holding a JSON
 *   document is parsed and walked;
 * - a short name under a property naming a party (`"recipient": "Quentin"`), or on a
 *   `sender: Quentin` line of text, is a `handle`;
 * - an integer of 8 or more digits is an `account`;
 * - object keys are never values.
 *
 * Runs in time linear in the size of `input`; stops after `limit` values.
 */
export function extractValues(input: unknown, limit = MAX_VALUES_PER_EXTRACTION): TrackedValue[] {
  return collectValues(input, limit).values;
}

/**
 * {@link extractValues}, and whether values were left out at the limit.
 * @internal the ledger must know, since a value left out is a value it cannot match.
 */
export function collectValues(input: unknown, limit = MAX_VALUES_PER_EXTRACTION): { values: TrackedValue[]; truncated: boolean } {
  const found = new Map<string, TrackedValue>();
  let truncated = false;
  const sink: ValueSink = (kind, value) => {
    const id = `${kind}\u0000${value}`;
    if (found.has(id)) return true;
    if (found.size >= limit) return !(truncated = true);
    found.set(id, { kind, value });
    return true;
  };
  walkLeaves(input, (leaf, key) => valuesOfLeaf(leaf, key, sink));
  return { values: [...found.values()], truncated };
}

/**
 * The values of one leaf of a JSON value, `key` being the property it sits under.
 * @internal shared with the ledger, which classifies arguments leaf by leaf.
 */
export function valuesOfLeaf(leaf: string | number, key: string | undefined, sink: ValueSink): boolean {
  if (typeof leaf === 'number') {
    const n = Math.abs(leaf);
    return !(Number.isSafeInteger(n) && n >= MIN_ACCOUNT_NUMBER) || sink('account', String(n));
  }
  if (key !== undefined && isPartyKey(key)) {
    const handle = handleOf(leaf);
    if (handle && !sink('handle', handle)) return false;
  }
  let more = true;
  findInText(prepareText(leaf), (kind: TrackedKind, value) => (more = sink(kind, value)));
  return more;
}
