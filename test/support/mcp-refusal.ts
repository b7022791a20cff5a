import assert from 'node:assert/strict';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

/** What a refused MCP call carries: Warden's code and details from the error's data, and the JSON-RPC code. */
export async function mcpRefusal(p: Promise<unknown>): Promise<{ code: string; details: Record<string, any>; rpc: number }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof McpError, `expected an McpError, got ${String(err)}`);
    const data = err.data as { code: string; details?: Record<string, any> };
    return { code: data.code, details: data.details ?? {}, rpc: err.code };
  }
  assert.fail('the call was not refused');
}

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
