import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpUpstreamSchema, StdioUpstreamSchema } from './upstream-config.js';
import { childEnvironment, requestHeaders } from './upstream-transport.js';

describe('childEnvironment', () => {
  it('starts empty, withholds the SDK defaults, copies inheritEnv and fills secrets', () => {
    const upstream = StdioUpstreamSchema.parse({ transport: 'stdio', name: 'a', command: 'x', env: { K: { secret: 's' }, L: 'lit' } });
    const env = childEnvironment(upstream, new Map([['s', 'value']]), { PATH: '/bin', HOME: '/root', WARDEN_MASTER_KEY: 'm' });
    assert.deepEqual(
      Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)),
      { PATH: '/bin', K: 'value', L: 'lit' },
    );
    assert.ok('HOME' in env && env.HOME === undefined, 'HOME is withheld explicitly');
  });
});

describe('requestHeaders', () => {
  it('formats secrets literally, even with $ patterns in them', () => {
    const upstream = HttpUpstreamSchema.parse({
      transport: 'http',
      name: 'a',
      url: 'https://x.example/mcp',
      headers: { Authorization: { secret: 's', format: 'Bearer {value}' }, 'X-Key': { secret: 's' } },
    });
    assert.deepEqual(requestHeaders(upstream, new Map([['s', "$&$'x"]])), { Authorization: "Bearer $&$'x", 'X-Key': "$&$'x" });
  });
});
