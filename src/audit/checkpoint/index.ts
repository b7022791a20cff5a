export { type Checkpoint, formatCheckpointBody, parseCheckpointBody } from './checkpoint-body.js';
export { CheckpointError, type CheckpointErrorCode, type CheckpointErrorDetails } from './checkpoint-error.js';
export { signCheckpoint, verifyCheckpoint, type VerifiedCheckpoint } from './checkpoint.js';
export { openNote, signNote, type OpenedNote } from './signed-note.js';
export { keyId, noteVerifier, parseVerifierKey, verifierKey, type Signer, type Verifier } from './verifier-key.js';
