import { Worker } from 'node:worker_threads';

/** How often the background thread checkpoints the WAL. */
export const WAL_CHECKPOINT_EVERY_MS = 250;

/**
 * Checkpoints a SQLite database's WAL from a worker thread ({@link ./wal-checkpoint-worker.ts}).
 * `onFailure` runs once if the thread cannot start, fails or dies: the store then turns SQLite's
 * own checkpoints back on, so the WAL never grows without bound.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private stopped = false;

  constructor(path: string, onFailure: (reason: string) => void, everyMs = WAL_CHECKPOINT_EVERY_MS) {
    let failed = false;
    const fail = (reason: string): void => {
      if (failed || this.stopped) return;
      failed = true;
      onFailure(reason);
    };
    this.worker = new Worker(new URL('./wal-checkpoint-worker.js', import.meta.url), { workerData: { path, everyMs } });
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (m: { failed?: string }) => {
      if (m && typeof m.failed === 'string') fail(m.failed);
    });
    this.worker.on('error', (err) => fail(err.message));
    this.worker.on('exit', (code) => fail(`checkpoint thread exited (${code})`));
  }

  /** Stops the thread and waits until it has closed its connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.postMessage('stop');
    const timer = setTimeout(() => void this.worker.terminate(), 2_000);
    await this.exited;
    clearTimeout(timer);
  }
}
