import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { measureInterleaved, turn } from './measure.js';
import { Progress } from './progress.js';
import type { BenchContext } from './section.js';

function context(): BenchContext {
  const sink = new Writable({ write: (_c, _e, done) => done() }) as unknown as NodeJS.WriteStream;
  return {
    durations: { microMs: 50, inProcessMs: 50, httpMs: 100, warmupOps: 4, soakMs: 100, auditEntries: 10 },
    concurrency: 1,
    progress: new Progress(sink),
  };
}

const items = async (n: number) => new Array<null>(n).fill(null);

describe('measureInterleaved with a paced load', () => {
  it('starts each timed operation a pause after the previous one ended, and times neither the pauses nor their CPU', async () => {
    const pauseMs = 4;
    const ends: number[] = [];
    const gaps: number[] = [];
    const [result] = await measureInterleaved(context(), 'paced', [
      turn({ id: 'paced', label: 'paced', kind: 'baseline' }, {
        prepare: items,
        concurrency: 1,
        durationMs: 20,
        pauseMs,
        run: async () => {
          const start = performance.now();
          const last = ends.at(-1);
          if (last !== undefined) gaps.push(start - last);
          ends.push(performance.now());
        },
      }),
    ]);
    // Gaps across a round's end include preparing the next round; every gap is at least the pause.
    assert.ok(gaps.length > 5, `${gaps.length} gaps`);
    for (const g of gaps) assert.ok(g >= pauseMs, `gap ${g} ms`);
    // The operations themselves are empty: their timed time is far below the pauses between them.
    assert.ok(result.row.latencyMs!.p50 < pauseMs / 2, `p50 ${result.row.latencyMs!.p50}`);
    assert.ok(result.row.seconds * 1000 < (result.row.ops * pauseMs) / 2, `${result.row.seconds} s for ${result.row.ops} ops`);
    assert.equal(result.row.cpuCores, undefined, 'no CPU share for a paced row');
  });

  it('refuses a pause with more than one operation in flight', async () => {
    await assert.rejects(
      measureInterleaved(context(), 'paced', [turn({ id: 'p', label: 'p', kind: 'baseline' }, { prepare: items, concurrency: 2, durationMs: 10, pauseMs: 1, run: async () => {} })]),
      TypeError,
    );
  });
});
