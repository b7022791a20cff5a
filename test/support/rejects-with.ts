import assert from 'node:assert/strict';
import type { ErrorCode } from '../../src/errors/registry.js';
import { WardenError } from '../../src/errors/warden-error.js';

/** Asserts that `promise` rejects with a WardenError of `code` (and these details, if given). */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, details?: Record<string, unknown>): Promise<WardenError> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof WardenError, `expected a WardenError, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code} ${JSON.stringify(caught.details)}`);
  for (const [key, value] of Object.entries(details ?? {})) assert.deepEqual(caught.details?.[key], value, key);
  return caught;
}
