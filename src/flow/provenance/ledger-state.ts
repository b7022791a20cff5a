import { z } from 'zod';

/** No persisted set may hold more digests than this, whatever the limits it was written with. */
export const MAX_STATE_DIGESTS = 100_000;

// HMAC-SHA-256 truncated to 16 bytes, base64url without padding.
const DigestSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/);
const DigestsSchema = z.array(DigestSchema).max(MAX_STATE_DIGESTS);

/**
 * A ledger as persisted with its task. The sets are disjoint: a digest seen trusted is kept
 * only in `trusted`. Only digests are stored; `key` makes them useless for any other task,
 * but whoever holds both can test guesses against this one task, so the state is as
 * confidential as the task's own data.
 */
export const ProvenanceLedgerStateSchema = z
  .object({
    v: z.literal(1),
    /** The ledger's 32-byte HMAC key, base64url. */
    key: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    trusted: DigestsSchema,
    untrusted: DigestsSchema,
    trustedWords: DigestsSchema,
    untrustedWords: DigestsSchema,
    /** Untrusted digests were refused at a limit: an unflagged argument may still be from untrusted content. */
    overflowed: z.boolean(),
  })
  .strict();

/** See {@link ProvenanceLedgerStateSchema}. */
export type ProvenanceLedgerState = z.infer<typeof ProvenanceLedgerStateSchema>;
