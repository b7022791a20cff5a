import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { formatDuration, ReplayProgress } from './progress.js';

/** A stream that keeps what is written, as a terminal or as a pipe. */
function sink(tty: boolean): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  }) as Writable & { isTTY?: boolean };
  stream.isTTY = tty;
  return { stream, text: () => text };
}

describe('replay progress', () => {
  it('formats durations in seconds and minutes', () => {
    assert.equal(formatDuration(42.4), '42s');
    assert.equal(formatDuration(65), '1m 05s');
    assert.equal(formatDuration(Infinity), '?');
  });

  it('prints a line at every tenth of the way when not on a terminal, with rate and time left', () => {
    let now = 0;
    const out = sink(false);
    const p = new ReplayProgress(20, out.stream, () => now);
    for (let i = 0; i < 20; i++) {
      now += 500;
      p.tick();
    }
    p.finish();
    const lines = out.text().trim().split('\n');
    assert.equal(lines.length, 11);
    assert.equal(lines[0], '2 / 20 runs · 2.0 runs/s · ETA 9s');
    assert.equal(lines[10], 'replayed 20 runs in 10s (2.0 runs/s)');
  });

  it('redraws one line with a bar on a terminal, at most ten times a second', () => {
    let now = 0;
    const out = sink(true);
    const p = new ReplayProgress(1000, out.stream, () => now);
    for (let i = 0; i < 500; i++) {
      now += 1;
      p.tick();
    }
    const draws = out.text().split('\r\x1b[2K').filter(Boolean);
    assert.equal(draws.length, 5);
    assert.match(draws.at(-1)!, /^\[#{10}\.{10}\] 500 \/ 1,000 runs · 1000\.0 runs\/s · ETA 1s$/);
  });
});
