/**
 * What argument provenance tracks: values that name where a side effect goes (an address, a
 * site, an account, a person) and that an injected instruction would have to carry into a call.
 */

/** The kinds of value that are tracked. */
export const TRACKED_KINDS = ['email', 'url', 'domain', 'iban', 'account', 'phone', 'handle'] as const;

/** One of {@link TRACKED_KINDS}. */
export type TrackedKind = (typeof TRACKED_KINDS)[number];

/**
 * A value found in content, in its normalized form: the same value written differently
 * (`Desk@Example.COM`, `mailto:desk@example.com`) has the same `value`, so it matches across
 * spellings. The ledger never stores `value` itself, only a keyed digest of it.
 */
export interface TrackedValue {
  readonly kind: TrackedKind;
  readonly value: string;
}
