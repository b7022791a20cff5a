import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const BIN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));
const run = promisify(execFile);

describe('warden demo', () => {
  it('tells the whole story with real MCP servers: allowed, denied, held and approved from the CLI, a stolen token, a redacted secret, the audit trail', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'demo'], { timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
    assert.match(stdout, /agent {2}│ ✓ Echo: hello from the demo agent/);
    assert.match(stdout, /agent {2}│ ✗ refused: POLICY_DENIED \{"policies":\["demo-no-env-files"\]\}/);
    assert.match(stdout, /person │ \$ warden approvals approve apr_\w+/);
    assert.match(stdout, /agent {2}│ ✓ Successfully wrote to .*summary\.md/);
    assert.match(stdout, /"DEMO_API_KEY": "\[REDACTED:known-value\]"/);
    assert.match(stdout, /thief → POST \/mcp with the stolen token: HTTP 401 DPOP_KEY_MISMATCH/);
    assert.match(stdout, /audit {2}│ # *\d+ \S+ tool\.call +success +files\.write_file decision=allow .*approval=apr_/);
    assert.match(stdout, /audit {2}│ # *\d+ \S+ approval\.decide +success .* by=prs_/);
    assert.match(stdout, /audit {2}│ # *\d+ \S+ tool\.result +success +everything\.get-env .*redactions=1/);
    assert.match(stdout, /audit {2}│ OK: \d+ entries match 1 signed checkpoint/);
    assert.doesNotMatch(stdout, /NOT REDACTED/);
  });
});
