import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cancelledIds, fastToolCall } from './fast-tool-call.js';

const headers = { accept: 'application/json, text/event-stream', 'content-type': 'application/json', 'mcp-protocol-version': '2025-06-18' };
const call = (over: Record<string, unknown> = {}, params: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id: 7,
  method: 'tools/call',
  params: { name: 'fs.read', arguments: { path: '/a' }, ...params },
  ...over,
});

describe('fastToolCall', () => {
  it('takes a single well-formed tools/call with the headers the SDK accepts', () => {
    assert.deepEqual(fastToolCall(headers, call()), { id: 7, name: 'fs.read', args: { path: '/a' } });
    assert.deepEqual(fastToolCall(headers, call({ id: 'abc' }, { arguments: undefined, _meta: { progressToken: 1 } })), { id: 'abc', name: 'fs.read', args: {}, progressToken: 1 });
    assert.equal(fastToolCall(headers, call({}, { _meta: { progressToken: 'p-1' } }))?.progressToken, 'p-1');
    // A token MCP does not allow (not a string or an integer) asks for no progress.
    for (const bad of [1.5, '', null, { t: 1 }]) assert.equal(fastToolCall(headers, call({}, { _meta: { progressToken: bad } }))?.progressToken, undefined, JSON.stringify(bad));
    const { 'mcp-protocol-version': _, ...noVersion } = headers;
    assert.ok(fastToolCall(noVersion, call()), 'no version header: the SDK assumes its default');
  });

  it('leaves everything else to the SDK', () => {
    const leave: [string, Record<string, string | undefined>, unknown][] = [
      ['a batch', headers, [call()]],
      ['another method', headers, call({ method: 'tools/list' })],
      ['a notification', headers, call({ id: undefined })],
      ['a fractional id', headers, call({ id: 1.5 })],
      ['a null id', headers, call({ id: null })],
      ['a task-augmented call', headers, call({}, { task: { ttl: 1000 } })],
      ['arguments not an object', headers, call({}, { arguments: ['x'] })],
      ['no tool name', headers, call({}, { name: 42 })],
      ['an extra member', headers, call({ extra: true })],
      ['another JSON-RPC version', headers, call({ jsonrpc: '1.0' })],
      ['an Accept without SSE', { ...headers, accept: 'application/json' }, call()],
      ['a body that is not JSON', { ...headers, 'content-type': 'text/plain' }, call()],
      ['an unknown protocol version', { ...headers, 'mcp-protocol-version': '1999-01-01' }, call()],
      ['a null body', headers, null],
    ];
    for (const [what, h, body] of leave) assert.equal(fastToolCall(h, body), undefined, what);
  });
});

describe('cancelledIds', () => {
  it('finds the request ids cancelled in a message or a batch, and nothing else', () => {
    const cancel = (requestId: unknown) => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: 'x' } });
    assert.deepEqual(cancelledIds(cancel(3)), [3]);
    assert.deepEqual(cancelledIds([cancel('a'), call(), cancel({ no: 1 }), { method: 'notifications/cancelled' }]), ['a']);
    assert.deepEqual(cancelledIds(call()), []);
  });
});
