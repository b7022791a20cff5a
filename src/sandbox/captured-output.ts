import { createHash } from 'node:crypto';
import { constants as osConstants } from 'node:os';

/** What a command wrote on one stream: kept up to a limit, counted and hashed in full. */
export interface CapturedStream {
  /** Up to the limit. */
  readonly kept: Buffer;
  readonly bytes: number;
  readonly truncated: boolean;
  /** SHA-256 (hex) of everything written, kept or not. */
  readonly sha256: string;
}

export class Capture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private total = 0;
  private readonly hash = createHash('sha256');
  constructor(private readonly limit: number) {}
  write(chunk: Buffer): void {
    this.hash.update(chunk);
    this.total += chunk.length;
    if (this.kept < this.limit) {
      const part = chunk.subarray(0, this.limit - this.kept);
      this.chunks.push(part);
      this.kept += part.length;
    }
  }
  result(): CapturedStream {
    return { kept: Buffer.concat(this.chunks), bytes: this.total, truncated: this.total > this.kept, sha256: this.hash.digest('hex') };
  }
}

/** `SIGKILL` for 9: the name of a signal number, as the audit log records it. */
export function signalName(n: number): string {
  const found = Object.entries(osConstants.signals).find(([, v]) => v === n);
  return found ? found[0] : `SIG${n}`;
}
