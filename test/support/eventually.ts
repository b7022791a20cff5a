import assert from 'node:assert/strict';

/** `fn`'s first defined value, polling every 50 ms (for what lands just after a call returns, like audit entries). */
export async function eventually<T>(fn: () => Promise<T | undefined>, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls until `check` holds (see {@link eventually}). */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  await eventually(async () => ((await check()) ? true : undefined), what, ms);
}
