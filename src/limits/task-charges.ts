import type { TaskId, TaskUsage } from '../domain/index.js';
import type { Store, TaskBudget } from '../store/store.js';

/** How long bytes a call received may wait for the task's next call before they are written alone. */
export const BYTES_IN_FLUSH_MS = 100;

/**
 * Charges tasks for their calls with one store write per call instead of two.
 *
 * A call's calls and bytes out are charged before it leaves (they are what the budget admits or
 * refuses); its bytes in are known only after it returns and never refuse it — they only decide
 * whether the task's *later* calls are admitted. So they are kept here and ride along with the
 * task's next admission charge, which counts them against the bytes-in limit (the store's
 * `chargeTask` checks the bytes in it carries, so a call is refused exactly when it would have
 * been had they been written on their own). Bytes no next call picks up within
 * {@link BYTES_IN_FLUSH_MS} are written by themselves, and {@link close} writes what is left.
 *
 * What this trades: another replica sees a task's bytes in up to that long late, and a crash
 * loses at most that window of bytes-in accounting (calls and bytes out are always written
 * before the call leaves).
 */
export class TaskCharges {
  private readonly pending = new Map<TaskId, number>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    readonly budget: TaskBudget,
    private readonly flushAfterMs = BYTES_IN_FLUSH_MS,
  ) {}

  /**
   * Admits one call of `bytesOut` bytes (with the task's bytes in not yet written), or not:
   * resolves to whether it fits the budget and the usage after the charge (or as it stands).
   */
  async admit(taskId: TaskId, bytesOut: number): Promise<{ ok: boolean; usage: TaskUsage }> {
    const bytesIn = this.take(taskId);
    let charged: { ok: boolean; usage: TaskUsage };
    try {
      charged = await this.store.chargeTask(taskId, { calls: 1, bytesOut, bytesIn }, this.budget);
    } catch (err) {
      this.hold(taskId, bytesIn);
      throw err;
    }
    if (!charged.ok && bytesIn > 0) {
      // Refused: the bytes were still received, and still count.
      this.received(taskId, bytesIn);
      return { ok: false, usage: { ...charged.usage, bytesIn: charged.usage.bytesIn + bytesIn } };
    }
    return charged;
  }

  /** Notes the bytes a finished call received; written with the task's next call or soon after. */
  received(taskId: TaskId, bytesIn: number): void {
    if (bytesIn <= 0) return;
    this.hold(taskId, bytesIn);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush().catch(() => undefined), this.flushAfterMs);
      this.timer.unref();
    }
  }

  /** Writes every task's bytes in still held here. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = [...this.pending];
    this.pending.clear();
    const run = this.flushing.then(async () => {
      const failed: [TaskId, number][] = [];
      for (const [taskId, bytesIn] of batch) {
        try {
          await this.store.chargeTask(taskId, { calls: 0, bytesOut: 0, bytesIn }, null);
        } catch {
          failed.push([taskId, bytesIn]);
        }
      }
      // Bytes a failing store did not take are kept for the task's next call or the next
      // flush, not retried on a timer of their own (a closed store would spin it forever).
      for (const [taskId, bytesIn] of failed) this.hold(taskId, bytesIn);
    });
    this.flushing = run;
    return run;
  }

  /** Writes what is held (at shutdown, before the store closes). */
  async close(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private hold(taskId: TaskId, bytesIn: number): void {
    if (bytesIn > 0) this.pending.set(taskId, (this.pending.get(taskId) ?? 0) + bytesIn);
  }

  private take(taskId: TaskId): number {
    const bytesIn = this.pending.get(taskId) ?? 0;
    if (bytesIn > 0) this.pending.delete(taskId);
    return bytesIn;
  }
}
