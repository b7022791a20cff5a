import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { TaskId, TaskUsage } from '../domain/index.js';
import { withinBudget } from '../store/budget.js';
import type { Store, TaskBudget } from '../store/store.js';
import { TaskCharges } from './task-charges.js';

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
  it('writes a call\'s bytes in with the task\'s next call: one store write per call', async () => {
    const f = fakeStore();
    const charges = new TaskCharges(f.store, {}, 60_000);
    assert.equal((await charges.admit(T, 10)).ok, true);
    charges.received(T, 500);
    assert.equal((await charges.admit(T, 20)).ok, true);
    charges.received(T, 700);
    assert.deepEqual(f.writes, [
      { calls: 1, bytesOut: 10, bytesIn: 0 },
      { calls: 1, bytesOut: 20, bytesIn: 500 },
    ]);
    await charges.close();
    assert.deepEqual(f.usage.get(T), { calls: 2, bytesOut: 30, bytesIn: 1200 });
  });

  it('refuses a call once the bytes in held for the task reach the limit, and still writes them', async () => {
    const f = fakeStore();
    const charges = new TaskCharges(f.store, { bytesIn: 1000 }, 60_000);
    assert.equal((await charges.admit(T, 0)).ok, true);
    charges.received(T, 1000);
    const refused = await charges.admit(T, 0);
    assert.equal(refused.ok, false);
    assert.equal(refused.usage.bytesIn, 1000, 'the usage reported counts the bytes held');
    assert.equal((await charges.admit(T, 0)).ok, false, 'refused again: the bytes were kept');
    await charges.flush();
    assert.deepEqual(f.usage.get(T), { calls: 1, bytesOut: 0, bytesIn: 1000 });
    assert.equal((await charges.admit(T, 0)).ok, false);
  });

  it('writes bytes in that no next call picks up, soon, by themselves', async () => {
    const f = fakeStore();
    const charges = new TaskCharges(f.store, {}, 1);
    charges.received(T, 42);
    while (!f.usage.has(T)) await sleep(2);
    assert.deepEqual(f.usage.get(T), { calls: 0, bytesOut: 0, bytesIn: 42 });
    await charges.close();
  });

  it('keeps the bytes in when the store fails, for the next call to carry', async () => {
    const f = fakeStore();
    const charges = new TaskCharges(f.store, {}, 60_000);
    charges.received(T, 300);
    f.failing.on = true;
    await assert.rejects(charges.admit(T, 5), /store down/);
    await charges.flush();
    f.failing.on = false;
    assert.equal((await charges.admit(T, 5)).ok, true);
    assert.deepEqual(f.usage.get(T), { calls: 1, bytesOut: 5, bytesIn: 300 });
    await charges.close();
  });
});
