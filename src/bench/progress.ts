/**
 * Live status on stderr, so stdout carries only the result (table or JSON). On a terminal one
 * line is redrawn in place; elsewhere (CI logs, a pipe) each finished step prints one line.
 */
export class Progress {
  private section = '';
  private label = '';
  private totalMs = 0;
  private lastDraw = 0;
  private drawn = false;
  private readonly tty: boolean;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = out.isTTY === true;
  }

  enter(section: string): void {
    this.section = section;
  }

  /** A step begins; `totalMs` is its timed length, for "3.2 / 8.0 s". */
  start(label: string, totalMs: number): void {
    this.label = label;
    this.totalMs = totalMs;
    this.lastDraw = 0;
    this.update(0, 0);
  }

  /** Cheap to call on every operation: draws at most ten times a second. */
  update(ops: number, elapsedMs: number): void {
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const time = `${(elapsedMs / 1000).toFixed(1)} / ${(this.totalMs / 1000).toFixed(1)} s`;
    this.draw(`[${this.section}] ${this.label} · ${ops.toLocaleString('en-US')} ops · ${time}`);
  }

  /** Says what the next pause is for (e.g. signing a batch of proofs). */
  status(text: string): void {
    if (!this.tty) return;
    this.draw(`[${this.section}] ${this.label} · ${text}`);
  }

  /** The step is done: its line stays on screen with the result. */
  finish(summary: string): void {
    this.clear();
    this.out.write(`[${this.section}] ${this.label}: ${summary}\n`);
  }

  /** A line that stays, e.g. a section failure. */
  log(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  clear(): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }

  private draw(text: string): void {
    const width = (this.out.columns ?? 100) - 1;
    this.out.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.drawn = true;
  }
}
