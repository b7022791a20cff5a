import { type Checkpoint, formatCheckpointBody, parseCheckpointBody } from './checkpoint-body.js';
import { CheckpointError } from './checkpoint-error.js';
import { openNote, signNote } from './signed-note.js';
import type { Signer, Verifier } from './verifier-key.js';

// SPEC: https://c2sp.org/tlog-checkpoint

/** A checkpoint whose note verified, and the names of the keys that signed it. */
export interface VerifiedCheckpoint extends Checkpoint {
  readonly extensions: readonly string[];
  readonly verifiedBy: readonly string[];
}

/**
 * The checkpoint as a signed note. The spec says the log's key name SHOULD be its origin;
 * that is left to the caller, who picks both.
 *
 * @throws TypeError for a checkpoint or signer that cannot be written (see
 *   `formatCheckpointBody`, `signNote`).
 */
export function signCheckpoint(checkpoint: Checkpoint, signer: Signer): string {
  return signNote(formatCheckpointBody(checkpoint), signer);
}

/**
 * The checkpoint a signed note states, once a trusted key's signature on it verifies. The
 * signatures are checked before the text is read at all: the spec says the text MUST be
 * ignored until then. With `expectedOrigin`, a checkpoint of another log is refused, so a
 * valid head of log A cannot be passed off as one of log B signed by the same key.
 *
 * @throws CheckpointError `NOTE_MALFORMED`, `NOTE_BAD_SIGNATURE`, `NOTE_UNVERIFIED`,
 *   `CHECKPOINT_MALFORMED` or `CHECKPOINT_ORIGIN_MISMATCH`.
 */
export function verifyCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly Verifier[],
  expectedOrigin?: string,
): VerifiedCheckpoint {
  const { text, verifiedBy } = openNote(note, verifiers);
  const checkpoint = parseCheckpointBody(text);
  if (expectedOrigin !== undefined && checkpoint.origin !== expectedOrigin) {
    throw new CheckpointError('CHECKPOINT_ORIGIN_MISMATCH');
  }
  return { ...checkpoint, verifiedBy };
}
