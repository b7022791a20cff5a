import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Pids of the upstream children this process started and has not yet seen die. If Warden exits
 * without closing them (an uncaught error, `process.exit`), the `exit` hook kills them: a tool
 * server must not outlive the gateway that guards it.
 */
const live = new Set<number>();
let hooked = false;

function killAllNow(): void {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

/** Remembers a child so it is killed if Warden exits first. */
export function trackChild(pid: number): void {
  if (!hooked) {
    // `exit` listeners run synchronously, and process.kill is synchronous: nothing is lost.
    process.once('exit', killAllNow);
    hooked = true;
  }
  live.add(pid);
}

/** True while a process with that pid exists (a zombie counts until Node reaps it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() >= until) return false;
    await sleep(20);
  }
  return true;
}

/**
 * Ends a child: SIGTERM, then SIGKILL if it is still there after `graceMs`. Resolves once it is
 * gone (or after a last bounded wait, should even SIGKILL not be reaped in time).
 */
export async function terminateChild(pid: number, graceMs: number): Promise<void> {
  try {
    if (isAlive(pid)) {
      signal(pid, 'SIGTERM');
      if (!(await waitForExit(pid, graceMs))) {
        signal(pid, 'SIGKILL');
        await waitForExit(pid, 5_000);
      }
    }
  } finally {
    live.delete(pid);
  }
}

/** Forgets a child that exited by itself. */
export function untrackChild(pid: number): void {
  live.delete(pid);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Exited in between.
  }
}
