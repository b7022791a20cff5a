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
