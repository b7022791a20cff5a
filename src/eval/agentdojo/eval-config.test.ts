import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../config/load.js';
import { toolMetadata } from '../../mcp-gateway/upstreams/tool-metadata.js';
import { evalConfig } from './eval-config.js';

/** The repository root, from `src/…` or `dist/src/…` alike. */
const ROOT = (() => {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(join('dist', 'src')) ? join(here, '..', '..', '..', '..') : join(here, '..', '..', '..');
})();
const EXAMPLE = join(ROOT, 'examples', 'agentdojo', 'warden.yaml');

/** Every tool the AgentDojo banking and slack suites offer. */
const SUITE_TOOLS = {
  banking: [
    'get_balance', 'get_iban', 'get_most_recent_transactions', 'get_scheduled_transactions', 'get_user_info', 'read_file',
    'schedule_transaction', 'send_money', 'update_password', 'update_scheduled_transaction', 'update_user_info',
  ],
  slack: [
    'add_user_to_channel', 'get_channels', 'get_users_in_channel', 'get_webpage', 'invite_user_to_slack', 'post_webpage',
    'read_channel_messages', 'read_inbox', 'remove_user_from_slack', 'send_channel_message', 'send_direct_message',
  ],
} as const;

const url = (suite: string) => `http://127.0.0.1:4711/${suite}/mcp`;

describe('the example AgentDojo config', () => {
  it('is a valid Warden config', async () => {
    const config = parseConfig(await readFile(EXAMPLE, 'utf8'), EXAMPLE);
    assert.deepEqual(config.upstreams.mcp.map((u) => u.name).sort(), ['banking', 'slack']);
  });

  it('labels every tool of both suites itself, and marks at least one outside-content reader and one external sink in each', async () => {
    const config = parseConfig(await readFile(EXAMPLE, 'utf8'), EXAMPLE);
    for (const [suite, tools] of Object.entries(SUITE_TOOLS)) {
      const upstream = config.upstreams.mcp.find((u) => u.name === suite)!;
      for (const tool of tools) assert.ok(upstream.tools[tool]?.labels, `${suite}.${tool} has labels of its own`);
      const labels = tools.map((t) => toolMetadata(upstream, t).labels);
      assert.ok(labels.some((l) => l.source === 'untrusted'), `${suite}: a tool reads outside content`);
      assert.ok(labels.some((l) => l.sink === 'external'), `${suite}: a tool sends data out`);
    }
  });

  it('becomes a valid eval config with each suite reached at the replay', async () => {
    const { config } = evalConfig(await readFile(EXAMPLE, 'utf8'), EXAMPLE, ['banking', 'slack'], url);
    for (const u of config.upstreams.mcp) assert.deepEqual([u.transport, u.transport === 'http' ? u.url : ''], ['http', url(u.name)]);
  });
});

describe('the eval config overlay', () => {
  const text = `
approvals:
  waitSec: 60
  webhooks: [{ url: "https://hooks.example.com/warden", secretEnv: HOOK_SECRET }]
limits: { task: { calls: 500 }, agent: { ratePerSec: 1, burst: 1 } }
server: { port: 7070 }
database: { url: "postgres://warden@db.example.com/warden" }
policy: { dir: my-policies }
flow: { onViolation: deny }
upstreams:
  mcp:
    - name: banking
      transport: stdio
      command: bank-mcp
      args: [--live]
      env: { BANK_TOKEN: { secret: bank.token } }
      defaults: { risk: low, labels: { source: trusted, data: confidential, sink: none } }
      tools:
        send_money: { risk: medium, labels: { sink: external } }
    - name: github
      transport: http
      url: https://mcp.github.example.com/mcp
`;

  it('replaces how each suite upstream is reached and keeps everything it says about the tools', () => {
    const { config } = evalConfig(text, 'warden.yaml', ['banking'], url);
    assert.equal(config.upstreams.mcp.length, 1, 'upstreams named after no suite are left out');
    const bank = config.upstreams.mcp[0]!;
    assert.equal(bank.transport, 'http');
    assert.equal(bank.transport === 'http' ? bank.url : '', url('banking'));
    assert.ok(!('command' in bank) && !('env' in bank));
    assert.deepEqual(toolMetadata(bank, 'send_money'), { risk: 'medium', tags: [], labels: { source: 'trusted', data: 'confidential', sink: 'external' }, hidden: false });
    assert.equal(config.flow.onViolation, 'deny');
    assert.equal(config.limits.task.calls, 500);
  });

  it('answers held calls at once, tells no one, and runs in its own data directory', () => {
    const { config } = evalConfig(text, 'warden.yaml', ['banking'], url);
    assert.equal(config.approvals.waitSec, 0);
    assert.deepEqual(config.approvals.webhooks, []);
    assert.ok(config.limits.agent.ratePerSec >= 10_000);
    assert.equal(config.database.url, undefined);
    assert.equal(config.server.port, undefined);
    assert.deepEqual(config.policy, { dir: 'policies', watch: false });
  });

  it('refuses a config without an upstream for a suite, naming it', () => {
    assert.throws(
      () => evalConfig(text, 'warden.yaml', ['banking', 'slack'], url),
      (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && err.problems[0]!.includes('"slack"'),
    );
  });

  it('reports a config that is invalid as written against the file', () => {
    assert.throws(
      () => evalConfig('upstreams: { mcp: [{ name: banking, transport: carrier-pigeon }] }', 'mine.yaml', ['banking'], url),
      (err: unknown) => err instanceof ConfigError && err.file === 'mine.yaml',
    );
  });
});
