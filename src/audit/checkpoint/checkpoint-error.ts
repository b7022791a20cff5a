/**
 * Why a signed note, verifier key or checkpoint was refused. These are local errors of the
 * audit library and never cross the wire as they are: whoever exposes a verification result
 * maps them to the project's error registry.
 */
const MESSAGES = {
  NOTE_MALFORMED: 'the signed note is malformed',
  NOTE_UNVERIFIED: 'no signature on the note is by a known key',
  NOTE_BAD_SIGNATURE: 'a signature by a known key does not verify',
  VKEY_MALFORMED: 'the verifier key is malformed',
  CHECKPOINT_MALFORMED: 'the checkpoint text is malformed',
  CHECKPOINT_ORIGIN_MISMATCH: 'the checkpoint is for another log',
} as const;

export type CheckpointErrorCode = keyof typeof MESSAGES;

/** Public facts about the refusal (a reason, a line number, a key name); never key material. */
export type CheckpointErrorDetails = Readonly<Record<string, string | number>>;

/**
 * The one error class of this folder. Its message is fixed per code, so nothing from the note
 * being refused is reflected through it; the specifics go to `details`.
 */
export class CheckpointError extends Error {
  readonly code: CheckpointErrorCode;
  readonly details: CheckpointErrorDetails | undefined;

  constructor(code: CheckpointErrorCode, details?: CheckpointErrorDetails) {
    super(MESSAGES[code]);
    this.name = 'CheckpointError';
    this.code = code;
    this.details = details;
  }
}
