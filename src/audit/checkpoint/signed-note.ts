import { createPublicKey, sign, verify } from 'node:crypto';
import { CheckpointError } from './checkpoint-error.js';
import { decodeBase64, isKeyName, isNoteText } from './note-syntax.js';
import { isVerifier, keyId, type Signer, type Verifier } from './verifier-key.js';

// SPEC: https://c2sp.org/signed-note
const SIG_PREFIX = '\u2014 '; // em dash, space
const ED25519_SIGNATURE_SIZE = 64;
/**
 * The spec asks verifiers to cap the signatures they read (and to accept at least 16); 100
 * is golang.org/x/mod/sumdb/note's cap, so a note it accepts is not refused here for count.
 */
const MAX_SIGNATURES = 100;

/** A note whose signatures were checked: its text, and the names of the keys that verified. */
export interface OpenedNote {
  readonly text: string;
  readonly verifiedBy: readonly string[];
}

/**
 * The signed note: `text`, a blank line, and the line `— <name> <base64(key ID || signature)>`
 * where the Ed25519 signature covers `text` (including its final newline).
 *
 * @throws TypeError when `text` does not end in a newline or holds characters a note may not
 *   (invalid UTF-8, control characters other than newline), or the signer is not an Ed25519
 *   private key with a valid name.
 */
export function signNote(text: string, signer: Signer): string {
  if (typeof text !== 'string' || !text.endsWith('\n') || !isNoteText(text)) {
    throw new TypeError('note text must end in a newline and hold no control character but newline');
  }
  if (!isKeyName(signer.name)) throw new TypeError('a key name is non-empty, without spaces or "+"');
  if (signer.privateKey?.type !== 'private' || signer.privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('an Ed25519 private key is required');
  }
  const id = Buffer.alloc(4);
  id.writeUInt32BE(keyId(signer.name, createPublicKey(signer.privateKey)));
  const signature = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
  return `${text}\n${SIG_PREFIX}${signer.name} ${Buffer.concat([id, signature]).toString('base64')}\n`;
}

/**
 * Checks the signatures of a note against the trusted `verifiers` and returns its text.
 *
 * Per the spec: a signature whose key name and ID (both) match no verifier is ignored, so
 * cosigners and rotated keys do not break a note; one that matches is verified, and a failure
 * rejects the whole note (the spec's SHOULD, taken as a MUST: a forged signature by a key we
 * trust is never a benign event). Every matching signature is checked, not just the first.
 *
 * @throws CheckpointError `NOTE_MALFORMED` (with a `reason`), `NOTE_BAD_SIGNATURE` (with the
 *   `keyName`) or `NOTE_UNVERIFIED` when no signature is by a known key.
 * @throws TypeError when a verifier was not made by `noteVerifier` or `parseVerifierKey`.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly Verifier[]): OpenedNote {
  if (!verifiers.every(isVerifier)) throw new TypeError('verifiers come from noteVerifier or parseVerifierKey');
  const { text, signatures } = splitNote(note);
  const message = Buffer.from(text, 'utf8');
  const verifiedBy = new Set<string>();
  for (const { name, id, signature } of signatures) {
    for (const v of verifiers) {
      if (v.name !== name || v.keyId !== id) continue;
      if (!verifies(message, v, signature)) throw new CheckpointError('NOTE_BAD_SIGNATURE', { keyName: name });
      verifiedBy.add(name);
    }
  }
  if (verifiedBy.size === 0) throw new CheckpointError('NOTE_UNVERIFIED');
  return { text, verifiedBy: [...verifiedBy] };
}

interface NoteSignature {
  readonly name: string;
  readonly id: number;
  readonly signature: Buffer;
}

/** The text and the parsed signature lines; nothing is verified yet. */
function splitNote(note: string | Uint8Array): { text: string; signatures: NoteSignature[] } {
  const bad = (reason: string, details: Record<string, number> = {}) =>
    new CheckpointError('NOTE_MALFORMED', { reason, ...details });
  let s: string;
  if (typeof note === 'string') s = note;
  else if (note instanceof Uint8Array) {
    try {
      s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
    } catch {
      throw bad('not UTF-8');
    }
  } else throw new TypeError('a note is a string or bytes');
  if (!isNoteText(s)) throw bad('control character or invalid UTF-8');
  // The text may hold blank lines of its own: the last one separates it from the signatures.
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw bad('no blank line before the signatures');
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw bad('signature lines must end in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw bad('too many signatures', { max: MAX_SIGNATURES });
  const signatures = lines.map((line, i) => {
    const space = line.indexOf(' ', SIG_PREFIX.length);
    const name = line.slice(SIG_PREFIX.length, space);
    const bytes = space < 0 ? undefined : decodeBase64(line.slice(space + 1));
    // Four bytes of key ID and a signature of at least one byte.
    if (!line.startsWith(SIG_PREFIX) || !isKeyName(name) || bytes === undefined || bytes.length < 5) {
      throw bad('malformed signature line', { line: i + 1 });
    }
    return { name, id: bytes.readUInt32BE(0), signature: bytes.subarray(4) };
  });
  return { text, signatures };
}

function verifies(message: Buffer, v: Verifier, signature: Buffer): boolean {
  if (signature.length !== ED25519_SIGNATURE_SIZE) return false;
  try {
    return verify(null, message, v.publicKey, signature);
  } catch {
    return false;
  }
}
