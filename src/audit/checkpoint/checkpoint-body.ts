import { CheckpointError } from './checkpoint-error.js';
import { decodeBase64, isNoteText } from './note-syntax.js';

// SPEC: https://c2sp.org/tlog-checkpoint ("Note text")

/** A log's tree head as a checkpoint states it. */
export interface Checkpoint {
  /** The log's identity, e.g. `example.com/log42`. */
  readonly origin: string;
  /** Leaves in the tree. */
  readonly size: number;
  /** RFC 6962 MTH of those leaves (32 bytes). */
  readonly root: Buffer;
  /** Opaque extension lines, each non-empty; the spec advises against them. */
  readonly extensions?: readonly string[];
}

const ROOT_SIZE = 32;

/**
 * `<origin>\n<size>\n<base64 root>\n` then one line per extension.
 *
 * @throws TypeError for an empty origin, a size that is not a safe whole number, a root that
 *   is not 32 bytes, an empty extension, or a newline or control character in any line.
 */
export function formatCheckpointBody(checkpoint: Checkpoint): string {
  const { origin, size, root, extensions = [] } = checkpoint;
  const lineOk = (l: unknown) => typeof l === 'string' && l !== '' && !l.includes('\n') && isNoteText(l);
  if (!lineOk(origin)) throw new TypeError('the origin is one non-empty line');
  if (!Number.isSafeInteger(size) || size < 0) throw new TypeError('the size is a whole number within the safe range');
  if (!(root instanceof Uint8Array) || root.length !== ROOT_SIZE) throw new TypeError('the root hash is 32 bytes');
  if (!extensions.every(lineOk)) throw new TypeError('each extension is one non-empty line');
  return [origin, String(size), Buffer.from(root).toString('base64'), ...extensions].map((l) => `${l}\n`).join('');
}

/**
 * The checkpoint a note text states, parsed strictly: at least three lines, each ending in a
 * newline; a non-empty origin; the size in decimal without leading zeros (`0` alone for the
 * empty tree); the root in canonical standard base64 decoding to 32 bytes; non-empty
 * extension lines; nothing after the last newline.
 *
 * A size past 2^53 − 1 is refused too: the spec allows any uint64, but this log's arithmetic is
 * exact only up to there, and no log of ours gets near it.
 *
 * @throws CheckpointError `CHECKPOINT_MALFORMED` with the `reason`.
 */
export function parseCheckpointBody(text: string): Checkpoint & { readonly extensions: readonly string[] } {
  const bad = (reason: string) => new CheckpointError('CHECKPOINT_MALFORMED', { reason });
  if (typeof text !== 'string' || !isNoteText(text)) throw bad('control character or invalid UTF-8');
  if (!text.endsWith('\n')) throw bad('the last line must end in a newline');
  const [origin, sizeLine, rootLine, ...extensions] = text.slice(0, -1).split('\n');
  if (origin === undefined || sizeLine === undefined || rootLine === undefined) throw bad('fewer than three lines');
  if (origin === '') throw bad('empty origin');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine)) throw bad('size is not a decimal without leading zeros');
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw bad('size beyond 2^53 - 1');
  const root = decodeBase64(rootLine);
  if (root === undefined || root.length !== ROOT_SIZE) throw bad('root is not 32 bytes of standard base64');
  if (extensions.some((l) => l === '')) throw bad('empty extension line');
  return { origin, size, root, extensions };
}
