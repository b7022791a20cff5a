import { Readable } from 'node:stream';
import type { Deadline } from './deadline.js';

/** A body as the caller holds it: already buffered, or a stream (an `IncomingMessage` is one). */
export type BodySource = Buffer | Uint8Array | AsyncIterable<Uint8Array | string>;

/** Thrown by {@link readBounded} when a body has more bytes than allowed. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super('body exceeds its limit');
    this.name = 'BodyTooLarge';
  }
}

export interface ReadOptions {
  readonly limit: number;
  readonly deadline: Deadline;
  /**
   * Destroy a stream that is given up on (too large, deadline). Yes for the upstream's
   * response, which frees its connection; no for the agent's request, whose socket must stay
   * open for the error answer.
   */
  readonly destroyOnStop: boolean;
}

/**
 * Reads a whole body, counting the bytes that actually arrive: a `Content-Length` (or none,
 * with chunked framing) is a claim, this is the measurement. Stops at the first chunk that
 * takes the total past `limit`, so at most one chunk beyond the limit is ever held.
 *
 * @throws BodyTooLarge; the deadline's abort reason when it fires first; a stream's error.
 */
export async function readBounded(source: BodySource | undefined, options: ReadOptions): Promise<Buffer> {
  const { limit, deadline, destroyOnStop } = options;
  if (source === undefined) return Buffer.alloc(0);
  if (source instanceof Uint8Array) {
    if (source.byteLength > limit) throw new BodyTooLarge(limit);
    return Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  }
  const iterator =
    source instanceof Readable ? source.iterator({ destroyOnReturn: destroyOnStop }) : source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let total = 0;
  let finished = false;
  try {
    for (;;) {
      const step = await deadline.race(iterator.next());
      if (step.done) {
        finished = true;
        return Buffer.concat(chunks, total);
      }
      const value = step.value as Uint8Array | string;
      const chunk = Buffer.isBuffer(value) ? value : typeof value === 'string' ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      total += chunk.byteLength;
      if (total > limit) throw new BodyTooLarge(limit);
      chunks.push(chunk);
    }
  } finally {
    if (!finished) {
      void Promise.resolve(iterator.return?.()).catch(() => {});
      if (destroyOnStop && source instanceof Readable) discard(source);
    }
  }
}

/**
 * Throws a stream away, closing what is under it. undici's response body reports being
 * destroyed unread as an error event; nobody is left to hear it, so it is swallowed here
 * rather than crash the process as an uncaught exception.
 */
export function discard(stream: Readable): void {
  stream.on('error', () => {});
  stream.destroy();
}
