import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../mcp-gateway/upstreams/child-reaper.js';

/**
 * The egress socket directories of live sandboxes: removed when this process exits without
 * closing them (an `exit` hook runs synchronously, so it can). Those of a process killed
 * outright are swept by the next one (their names carry the pid).
 */
export const runDirs = new Set<string>();
let exitHooked = false;

export function trackRunDir(dir: string): void {
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const d of runDirs) rmSync(d, { recursive: true, force: true });
    });
    sweepRunDirs();
  }
  runDirs.add(dir);
}

function sweepRunDirs(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^warden-sb-(\d+)-/.exec(name);
    if (!m || Number(m[1]) === process.pid || isAlive(Number(m[1]))) continue;
    const dir = join(tmpdir(), name);
    // Only our own: another user's leftovers are theirs to sweep.
    if (lstatSync(dir).uid === process.getuid?.()) rmSync(dir, { recursive: true, force: true });
  }
}
