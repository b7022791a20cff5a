/**
 * The last `capacity` bytes written to it. Keeps a child's stderr for diagnostics without letting
 * a chatty or hostile child grow Warden's memory.
 */
export class StderrRing {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(readonly capacity: number = 64 * 1024) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError('capacity must be a positive integer');
  }

  write(chunk: Buffer | string): void {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (buf.length >= this.capacity) {
      // Copy: a subarray would pin the whole (possibly huge) chunk in memory.
      buf = Buffer.from(buf.subarray(buf.length - this.capacity));
      this.chunks = [];
      this.size = 0;
    }
    this.chunks.push(buf);
    this.size += buf.length;
    while (this.size > this.capacity) {
      const first = this.chunks[0]!;
      const excess = this.size - this.capacity;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  /** The kept bytes as UTF-8 (a character cut at the start shows as U+FFFD). */
  text(): string {
    return Buffer.concat(this.chunks, this.size).toString('utf8');
  }

  get byteLength(): number {
    return this.size;
  }
}
