import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectRuns } from './select-runs.js';

const runs = Array.from({ length: 200 }, (_, i) => ({ id: `run-${i}`, suite: i % 3 === 0 ? 'slack' : 'banking' }));

describe('selecting runs', () => {
  it('keeps every run in file order when nothing is asked', () => {
    assert.deepEqual(selectRuns(runs, {}), runs);
  });

  it('samples the same runs whatever the file order, in file order, a smaller sample inside a larger one', () => {
    const a = selectRuns(runs, { sample: 50 });
    const b = selectRuns([...runs].reverse(), { sample: 50 });
    assert.equal(a.length, 50);
    assert.deepEqual(new Set(a.map((r) => r.id)), new Set(b.map((r) => r.id)));
    assert.deepEqual(a, runs.filter((r) => a.includes(r)), 'file order kept');
    const small = new Set(selectRuns(runs, { sample: 20 }).map((r) => r.id));
    assert.ok([...small].every((id) => a.some((r) => r.id === id)));
    assert.ok(a.some((r) => r.suite === 'slack') && a.some((r) => r.suite === 'banking'));
  });

  it('filters by suite before sampling and limits last', () => {
    const slack = selectRuns(runs, { suites: ['slack'], sample: 10, limit: 4 });
    assert.equal(slack.length, 4);
    assert.ok(slack.every((r) => r.suite === 'slack'));
    assert.deepEqual(selectRuns(runs, { limit: 3 }).map((r) => r.id), ['run-0', 'run-1', 'run-2']);
    assert.equal(selectRuns(runs, { sample: 10_000 }).length, 200);
  });

  it('rejects a sample or limit that is not a positive integer', () => {
    assert.throws(() => selectRuns(runs, { sample: 0 }), TypeError);
    assert.throws(() => selectRuns(runs, { limit: 1.5 }), TypeError);
  });
});
