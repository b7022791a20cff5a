import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseConfig } from '../config/load.js';

describe('examples/sandbox/warden.yaml', () => {
  it('is a valid config, with one server unsandboxed on purpose and exec always sandboxed', () => {
    // dist/src/sandbox/ → repository root.
    const text = readFileSync(new URL('../../../examples/sandbox/warden.yaml', import.meta.url), 'utf8');
    const config = parseConfig(text, 'examples/sandbox/warden.yaml');
    const by = new Map(config.upstreams.mcp.map((u) => [u.name, u]));
    const github = by.get('github');
    assert.ok(github?.transport === 'stdio' && github.sandbox !== false);
    assert.deepEqual(github.sandbox.egress, ['github-api']);
    const legacy = by.get('legacy-inventory');
    assert.ok(legacy?.transport === 'stdio' && legacy.sandbox === false);
    assert.equal(by.get('shell')?.transport, 'builtin');
    assert.equal(config.sandbox.limitsWith, 'cgroup');
  });
});
