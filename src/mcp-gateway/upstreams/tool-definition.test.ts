import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOOL_LIMITS, validateToolDefinition } from './tool-definition.js';

describe('validateToolDefinition', () => {
  const schema = { type: 'object' };

  it('keeps the fields MCP defines and drops the rest', () => {
    const result = validateToolDefinition(
      { name: 'a.b-c_d', title: 'T', description: 'D', inputSchema: schema, outputSchema: schema, annotations: { openWorldHint: false, x: 1 }, _meta: { y: 1 }, icons: [] },
      0,
    );
    assert.deepEqual(result, {
      kind: 'tool',
      tool: { name: 'a.b-c_d', title: 'T', description: 'D', inputSchema: schema, outputSchema: schema, annotations: { openWorldHint: false } },
      issues: [],
    });
  });

  it('truncates without splitting a surrogate pair', () => {
    const description = 'a'.repeat(TOOL_LIMITS.descriptionChars - 1) + '😀' + 'tail';
    const result = validateToolDefinition({ name: 'x', description, inputSchema: schema }, 3);
    assert.equal(result.kind, 'tool');
    assert.equal(result.kind === 'tool' && result.tool.description, 'a'.repeat(TOOL_LIMITS.descriptionChars - 1));
    assert.deepEqual(result.kind === 'tool' && result.issues, [{ index: 3, name: 'x', action: 'truncated', field: 'description', reason: 'too-long' }]);
  });

  it('drops a description that is not a string', () => {
    const result = validateToolDefinition({ name: 'x', description: { evil: true }, inputSchema: schema }, 0);
    assert.ok(result.kind === 'tool' && result.tool.description === undefined);
    assert.deepEqual(result.kind === 'tool' && result.issues.map((i) => i.reason), ['not-a-string']);
  });

  it('skips what is not a definition, without echoing it', () => {
    for (const raw of [null, [], 'tool', { name: 5, inputSchema: schema }, { name: '', inputSchema: schema }, { name: 'a/b', inputSchema: schema }]) {
      const result = validateToolDefinition(raw, 0);
      assert.equal(result.kind, 'skipped', JSON.stringify(raw));
      assert.equal(result.kind === 'skipped' && result.issue.name, undefined);
    }
  });
});
