/** `1m 05s`, `42s`. */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * The replay's progress on stderr, so stdout carries only the result: runs done of total, the
 * rate and the time left. On a terminal one line (with a bar) is redrawn at most ten times a
 * second; elsewhere (CI logs, a pipe) a line is printed at every tenth of the way.
 */
export class ReplayProgress {
  private done = 0;
  private lastDraw = 0;
  private lastTenth = 0;
  private readonly started: number;
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number } = process.stderr,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
    this.tty = out.isTTY === true;
  }

  /** One more run replayed. */
  tick(): void {
    this.done += 1;
    const t = this.now();
    if (this.tty) {
      if (t - this.lastDraw >= 100 || this.done === this.total) {
        this.lastDraw = t;
        this.out.write(`\r\x1b[2K${this.line(t, true)}`);
      }
      return;
    }
    const tenth = Math.floor((this.done * 10) / Math.max(1, this.total));
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.out.write(`${this.line(t, false)}\n`);
    }
  }

  /** The replay is over: clears the live line and says how long it took. */
  finish(): void {
    const t = this.now();
    if (this.tty) this.out.write('\r\x1b[2K');
    const sec = (t - this.started) / 1000;
    this.out.write(`replayed ${this.done.toLocaleString('en-US')} runs in ${formatDuration(sec)} (${this.rate(t).toFixed(1)} runs/s)\n`);
  }

  private rate(t: number): number {
    const sec = (t - this.started) / 1000;
    return sec > 0 ? this.done / sec : 0;
  }

  /** `[#####.....] 1,234 / 12,090 runs · 25.3 runs/s · ETA 7m 09s` */
  line(t: number, bar: boolean): string {
    const r = this.rate(t);
    const eta = r > 0 ? formatDuration((this.total - this.done) / r) : '?';
    const width = 20;
    const filled = Math.round((this.done / Math.max(1, this.total)) * width);
    const head = bar ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
    return `${head}${this.done.toLocaleString('en-US')} / ${this.total.toLocaleString('en-US')} runs · ${r.toFixed(1)} runs/s · ETA ${eta}`;
  }
}
