import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { TaskId, TaskUsage } from '../domain/index.js';
import { withinBudget } from '../store/budget.js';
import type { Store, TaskBudget } from '../store/store.js';
import { MAX_LEASE_CALLS, TaskCharges } from './task-charges.js';

/** The store's charging contract in memory, counting writes. */
function fakeStore(): { store: Store; usage: Map<string, TaskUsage>; writes: TaskUsage[]; failing: { on: boolean } } {
  const usage = new Map<string, TaskUsage>();
  const writes: TaskUsage[] = [];
  const failing = { on: false };
  const store = {
    async chargeTask(taskId: TaskId, charge: TaskUsage, budget: TaskBudget | null) {
      if (failing.on) throw new Error('store down');
      const u = usage.get(taskId) ?? { calls: 0, bytesOut: 0, bytesIn: 0 };
      if (budget && !withinBudget(u, charge, budget)) return { ok: false, usage: u };
      const next = { calls: u.calls + charge.calls, bytesOut: u.bytesOut + charge.bytesOut, bytesIn: u.bytesIn + charge.bytesIn };
      usage.set(taskId, next);
      writes.push(charge);
      return { ok: true, usage: next };
    },
  } as unknown as Store;
  return { store, usage, writes, failing };
}

const T = 'tsk_one' as TaskId;

describe('TaskCharges', () => {
  it('admits calls from a lease: one store write for many calls, and the store holds what was made once it is given back', async () => {
    const f = fakeStore();
    const charges = new TaskCharges(f.store, { calls: 1000 }, { flushAfterMs: 60_000, leaseIdleMs: 60_000 });
    for (let i = 0; i < 10; i++) {
      assert.equal((await charges.admit(T, 10)).ok, true);
      charges.received(T, 5);
    }
    assert.equal(f.writes.length, 1, 'ten calls, one lease');
    assert.deepEqual(f.writes[0], { calls: MAX_LEASE_CALLS, bytesOut: 10, bytesIn: 0 });
    const usage = await charges.admit(T, 10);
    assert.deepEqual(usage.usage, { calls: 11, bytesOut: 110, bytesIn: 50 }, 'usage counts calls made, not reserved');
    await charges.close();
    assert.deepEqual(f.usage.get(T), { calls: 11, bytesOut: 110, bytesIn: 50 }, 'the unused lease went back');
  });

  it('admits exactly the budget: leases shrink to single calls at its end', async () => {
    const f = fakeStore();
    const charges = new TaskCharges(f.store, { calls: 20 }, { flushAfterMs: 60_000, leaseIdleMs: 60_000 });
    let ok = 0;
    for (let i = 0; i < 25; i++) if ((await charges.admit(T, 0)).ok) ok++;
    assert.equal(ok, 20);
    assert.deepEqual(f.usage.get(T), { calls: 20, bytesOut: 0, bytesIn: 0 });
    await charges.close();
    assert.deepEqual(f.usage.get(T), { calls: 20, bytesOut: 0, bytesIn: 0 });
  });

  it('never lets two replicas together admit more than the budget, and together they use all of it', async () => {
    const f = fakeStore();
    const a = new TaskCharges(f.store, { calls: 100, bytesOut: 10_000 }, { flushAfterMs: 60_000, leaseIdleMs: 60_000 });
    const b = new TaskCharges(f.store, { calls: 100, bytesOut: 10_000 }, { flushAfterMs: 60_000, leaseIdleMs: 60_000 });
    let ok = 0;
    for (let refusedInARow = 0; refusedInARow < 4; ) {
      for (const r of [a, b, a]) {
        if ((await r.admit(T, 7)).ok) {
          ok++;
          refusedInARow = 0;
        } else refusedInARow++;
        assert.ok(f.usage.get(T)!.calls <= 100 && f.usage.get(T)!.bytesOut <= 10_000, 'the store never holds more than the budget');
      }
    }
    assert.equal(ok, 100);
    await a.close();
    await b.close();
    assert.deepEqual(f.usage.get(T), { calls: 100, bytesOut: 700, bytesIn: 0 });
  });

  it('refuses a call that would pass the bytes-out limit, with a lease in hand or not', async () => {
    const f = fakeStore();
    const charges = new TaskCharges(f.store, { bytesOut: 1000 }, { flushAfterMs: 60_000, leaseIdleMs: 60_000 });
    let ok = 0;
    for (let i = 0; i < 12; i++) if ((await charges.admit(T, 100)).ok) ok++;
    assert.equal(ok, 10);
    await charges.close();
    assert.deepEqual(f.usage.get(T), { calls: 10, bytesOut: 1000, bytesIn: 0 });
  });

  it('refuses a call once the bytes in held for the task reach the limit, and still writes them', async () => {
    const f = fakeStore();
    const charges = new TaskCharges(f.store, { bytesIn: 1000 }, { flushAfterMs: 60_000, leaseIdleMs: 60_000 });
    assert.equal((await charges.admit(T, 0)).ok, true);
    charges.received(T, 1000);
    const refused = await charges.admit(T, 0);
    assert.equal(refused.ok, false);
    assert.equal(refused.usage.bytesIn, 1000, 'the usage reported counts the bytes held');
    assert.equal((await charges.admit(T, 0)).ok, false, 'refused again: the bytes were kept');
    await charges.flush();
    assert.deepEqual(f.usage.get(T), { calls: 1, bytesOut: 0, bytesIn: 1000 });
    assert.equal((await charges.admit(T, 0)).ok, false);
    await charges.close();
  });

  it('writes bytes in soon, by themselves', async () => {
    const f = fakeStore();
    const charges = new TaskCharges(f.store, {}, { flushAfterMs: 1 });
    charges.received(T, 42);
    while (!f.usage.has(T)) await sleep(2);
    assert.deepEqual(f.usage.get(T), { calls: 0, bytesOut: 0, bytesIn: 42 });
    await charges.close();
  });

  it('gives an idle lease back', async () => {
    const f = fakeStore();
    const charges = new TaskCharges(f.store, { calls: 1000 }, { flushAfterMs: 60_000, leaseIdleMs: 5 });
    assert.equal((await charges.admit(T, 0)).ok, true);
    assert.equal(f.usage.get(T)!.calls, MAX_LEASE_CALLS);
    while (f.usage.get(T)!.calls !== 1) await sleep(2);
    await charges.close();
    assert.deepEqual(f.usage.get(T), { calls: 1, bytesOut: 0, bytesIn: 0 });
  });

  it('admits concurrent first calls of a task with one lease', async () => {
    const f = fakeStore();
    const charges = new TaskCharges(f.store, { calls: 1000 }, { flushAfterMs: 60_000, leaseIdleMs: 60_000 });
    const all = await Promise.all(Array.from({ length: 8 }, () => charges.admit(T, 0)));
    assert.ok(all.every((r) => r.ok));
    assert.equal(f.writes.length, 1);
    await charges.close();
    assert.deepEqual(f.usage.get(T), { calls: 8, bytesOut: 0, bytesIn: 0 });
  });

  it('keeps the bytes when the store fails, for a later write to carry', async () => {
    const f = fakeStore();
    const charges = new TaskCharges(f.store, {}, { flushAfterMs: 60_000, leaseIdleMs: 60_000 });
    charges.received(T, 300);
    f.failing.on = true;
    await assert.rejects(charges.admit(T, 5), /store down/);
    await charges.flush();
    f.failing.on = false;
    assert.equal((await charges.admit(T, 5)).ok, true);
    await charges.close();
    assert.deepEqual(f.usage.get(T), { calls: 1, bytesOut: 5, bytesIn: 300 });
  });
});
