import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The modules of this folder that `entry` imports, directly or not (compiled or source alike). */
function localImports(entry: string): Set<string> {
  const ext = entry.endsWith('.ts') ? '.ts' : '.js';
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(HERE, file), 'utf8');
    for (const m of text.matchAll(/from '\.\/([a-z-]+)\.js'/g)) visit(`${m[1]}${ext}`);
  };
  visit(entry);
  return seen;
}

describe('the replay never sees the ground truth', () => {
  const ext = fileURLToPath(import.meta.url).endsWith('.ts') ? '.ts' : '.js';
  const replay = localImports(`replayer${ext}`);

  it('does not import the scoring modules', () => {
    assert.ok(replay.has(`replay-upstream${ext}`) && replay.has(`replay-script${ext}`), [...replay].join(' '));
    for (const scoring of ['score', 'explain', 'run-eval', 'print-report']) assert.ok(!replay.has(`${scoring}${ext}`), `${scoring} reached from the replay`);
  });

  it('reads no step label: the steps it gets are ReplayStep, which has none', () => {
    for (const file of replay) {
      if (file === `trace${ext}`) continue; // defines the schema and forReplay, which drops the label
      assert.ok(!/\.label\b/.test(readFileSync(join(HERE, file), 'utf8')), `${file} reads .label`);
    }
  });
});
