import type { TaskId, TaskUsage } from '../domain/index.js';
import type { Store, TaskBudget } from '../store/store.js';

/** How long bytes a call received may wait before they are written. */
export const BYTES_IN_FLUSH_MS = 100;
/** How long a task's unused lease is kept without a call before it is given back. */
export const LEASE_IDLE_MS = 1_000;
/** Most calls one lease takes from the budget. */
export const MAX_LEASE_CALLS = 64;
/** Most bytes out one lease takes from the budget beyond the call that asks for it. */
export const MAX_LEASE_BYTES = 1024 * 1024;
/** A lease takes at most this share of what is left of a budget. */
const LEASE_SHARE = 8;

interface TaskState {
  /** Calls and bytes out reserved in the store and not yet used by a call here. */
  callsLeft: number;
  bytesLeft: number;
  /** Bytes out of calls made here and not yet written (budgets without a bytes-out limit). */
  pendingOut: number;
  /** Bytes in received here and not yet written. */
  pendingIn: number;
  /** The task's usage as the store last told it (leases and bytes written so far included). */
  stored: TaskUsage;
  lastUse: number;
  /** A reservation on its way to the store: calls for the task wait for it. */
  reserving: Promise<unknown> | null;
}

export interface TaskChargesOptions {
  readonly flushAfterMs?: number;
  readonly leaseIdleMs?: number;
  readonly maxLeaseCalls?: number;
}

/**
 * Charges tasks against their budgets with leases, so that a call rarely waits for a store write.
 *
 * The budget lives in the store (it holds across replicas). Instead of one conditional write per
 * call, a replica reserves a lease — several calls and some bytes out — in one write that the
 * store admits only within the budget, and admits the calls it covers from memory. What is
 * reserved counts as used in the store until it is used or given back, so replicas together never
 * admit more than the budget: leases only move *when* the store is asked.
 *
 * - A lease is at most 1/8 of what is left and at most {@link MAX_LEASE_CALLS} calls; near the end
 *   of a budget leases shrink to one call, and a lease the store refuses is retried for exactly the
 *   one call, so a replica alone is refused exactly when the budget is spent.
 * - Unused leases go back after {@link LEASE_IDLE_MS} without a call, and at {@link close}. A
 *   crash loses them: the task's usage then overstates what it did, never understates it.
 * - Bytes in are known only after a call returns and never refuse it; they decide whether the
 *   task's later calls are admitted. They are written within {@link BYTES_IN_FLUSH_MS}, and a
 *   task whose known bytes in reach its limit is sent to the store for each call.
 *
 * What this trades: another replica can be refused while this one holds an unused lease (at most
 * 1/8 of what is left), and the usage in the store runs ahead of the calls made by the unused
 * part of a lease for up to a second.
 */
export class TaskCharges {
  private readonly tasks = new Map<TaskId, TaskState>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly flushAfterMs: number;
  private readonly leaseIdleMs: number;
  private readonly maxLeaseCalls: number;

  constructor(
    private readonly store: Store,
    readonly budget: TaskBudget,
    opts: TaskChargesOptions = {},
  ) {
    this.flushAfterMs = opts.flushAfterMs ?? BYTES_IN_FLUSH_MS;
    this.leaseIdleMs = opts.leaseIdleMs ?? LEASE_IDLE_MS;
    this.maxLeaseCalls = opts.maxLeaseCalls ?? MAX_LEASE_CALLS;
  }

  /**
   * Admits one call of `bytesOut` bytes, or not: resolves to whether it fits the budget and the
   * task's usage (calls made, not reserved) after the charge or as it stands.
   */
  async admit(taskId: TaskId, bytesOut: number): Promise<{ ok: boolean; usage: TaskUsage }> {
    for (;;) {
      const s = this.tasks.get(taskId);
      if (s?.reserving) {
        await s.reserving.catch(() => undefined);
        continue;
      }
      if (s && s.callsLeft >= 1 && (this.budget.bytesOut === undefined || s.bytesLeft >= bytesOut) && this.bytesInAllow(s)) {
        s.callsLeft -= 1;
        if (this.budget.bytesOut === undefined) s.pendingOut += bytesOut;
        else s.bytesLeft -= bytesOut;
        s.lastUse = Date.now();
        return { ok: true, usage: this.usageOf(s) };
      }
      const state = s ?? this.newState();
      if (!s) this.tasks.set(taskId, state);
      const reserving = this.reserve(taskId, state, bytesOut);
      state.reserving = reserving;
      try {
        return await reserving;
      } finally {
        state.reserving = null;
        this.arm();
      }
    }
  }

  /** Notes the bytes a finished call received; written within {@link BYTES_IN_FLUSH_MS}. */
  received(taskId: TaskId, bytesIn: number): void {
    if (bytesIn <= 0) return;
    const s = this.tasks.get(taskId) ?? this.newState();
    this.tasks.set(taskId, s);
    s.pendingIn += bytesIn;
    this.arm();
  }

  /** Writes every task's bytes in held here, and gives back leases idle for long enough. */
  flush(all = false): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = Date.now();
    const run = this.flushing.then(async () => {
      for (const [taskId, s] of [...this.tasks]) {
        if (s.reserving) continue;
        const release = (all || now - s.lastUse >= this.leaseIdleMs) && (s.callsLeft > 0 || s.bytesLeft > 0);
        const charge = { calls: release ? -s.callsLeft : 0, bytesOut: s.pendingOut - (release ? s.bytesLeft : 0), bytesIn: s.pendingIn };
        if (charge.calls !== 0 || charge.bytesOut !== 0 || charge.bytesIn !== 0) {
          // Taken out before the write, so a call admitted meanwhile reserves anew.
          if (release) s.callsLeft = s.bytesLeft = 0;
          const out = s.pendingOut;
          s.pendingIn = s.pendingOut = 0;
          try {
            s.stored = (await this.store.chargeTask(taskId, charge, null)).usage;
          } catch {
            // Kept for the next flush or the task's next reservation; a lease not given back
            // stays counted as used (over, never under).
            s.pendingIn += charge.bytesIn;
            s.pendingOut += out;
          }
        }
        if (s.callsLeft === 0 && s.bytesLeft === 0 && s.pendingIn === 0 && s.pendingOut === 0 && !s.reserving) this.tasks.delete(taskId);
      }
    });
    this.flushing = run.finally(() => this.arm());
    return run;
  }

  /** Gives back every lease and writes what is held (at shutdown, before the store closes). */
  async close(): Promise<void> {
    await this.flush(true);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async reserve(taskId: TaskId, s: TaskState, bytesOut: number): Promise<{ ok: boolean; usage: TaskUsage }> {
    // What is left of an unsuitable lease goes back first, so the store sees only calls made.
    if (s.callsLeft > 0 || s.bytesLeft > 0) {
      s.stored = (await this.store.chargeTask(taskId, { calls: -s.callsLeft, bytesOut: -s.bytesLeft, bytesIn: 0 }, null)).usage;
      s.callsLeft = s.bytesLeft = 0;
    }
    const bytesIn = s.pendingIn;
    const madeOut = s.pendingOut;
    s.pendingIn = s.pendingOut = 0;
    const lease = this.leaseFor(s.stored, bytesOut);
    let charged: { ok: boolean; usage: TaskUsage };
    try {
      charged = await this.store.chargeTask(taskId, { calls: lease.calls, bytesOut: madeOut + bytesOut + lease.bytes, bytesIn }, this.budget);
      if (!charged.ok && (lease.calls > 1 || lease.bytes > 0)) {
        charged = await this.store.chargeTask(taskId, { calls: 1, bytesOut: madeOut + bytesOut, bytesIn }, this.budget);
        lease.calls = 1;
        lease.bytes = 0;
      }
    } catch (err) {
      s.pendingIn += bytesIn;
      s.pendingOut += madeOut;
      throw err;
    }
    s.stored = charged.usage;
    s.lastUse = Date.now();
    if (!charged.ok) {
      // Refused: the bytes were still received and sent, and still count.
      s.pendingIn += bytesIn;
      s.pendingOut += madeOut;
      return { ok: false, usage: { ...charged.usage, bytesIn: charged.usage.bytesIn + bytesIn } };
    }
    s.callsLeft = lease.calls - 1;
    s.bytesLeft = lease.bytes;
    return { ok: true, usage: this.usageOf(s) };
  }

  /** Calls and spare bytes out to reserve, given the usage the store last reported. */
  private leaseFor(stored: TaskUsage, bytesOut: number): { calls: number; bytes: number } {
    const b = this.budget;
    const callsLeft = b.calls === undefined ? Infinity : b.calls - stored.calls;
    const bytesLeft = b.bytesOut === undefined ? Infinity : b.bytesOut - stored.bytesOut - bytesOut;
    const calls = Math.max(1, Math.min(this.maxLeaseCalls, Math.floor(callsLeft / LEASE_SHARE)));
    const bytes = b.bytesOut === undefined ? 0 : Math.max(0, Math.min(MAX_LEASE_BYTES, Math.floor(bytesLeft / LEASE_SHARE)));
    return { calls, bytes };
  }

  /** Whether the bytes in known here leave the task below its bytes-in limit. */
  private bytesInAllow(s: TaskState): boolean {
    return this.budget.bytesIn === undefined || s.stored.bytesIn + s.pendingIn < this.budget.bytesIn;
  }

  /** Usage as made (the unused part of the lease is not): for reports, not for admission. */
  private usageOf(s: TaskState): TaskUsage {
    return { calls: s.stored.calls - s.callsLeft, bytesOut: s.stored.bytesOut - s.bytesLeft + s.pendingOut, bytesIn: s.stored.bytesIn + s.pendingIn };
  }

  private newState(): TaskState {
    return { callsLeft: 0, bytesLeft: 0, pendingOut: 0, pendingIn: 0, stored: { calls: 0, bytesOut: 0, bytesIn: 0 }, lastUse: Date.now(), reserving: null };
  }

  /** A flush soon while anything is held: bytes in within the flush delay, idle leases after theirs. */
  private arm(): void {
    if (this.timer || this.tasks.size === 0) return;
    let soonest = Infinity;
    const now = Date.now();
    for (const s of this.tasks.values()) {
      if (s.pendingIn > 0 || s.pendingOut > 0) soonest = Math.min(soonest, this.flushAfterMs);
      if (s.callsLeft > 0 || s.bytesLeft > 0) soonest = Math.min(soonest, Math.max(0, s.lastUse + this.leaseIdleMs - now));
    }
    if (soonest === Infinity) return;
    this.timer = setTimeout(() => void this.flush().catch(() => undefined), soonest);
    this.timer.unref();
  }
}
