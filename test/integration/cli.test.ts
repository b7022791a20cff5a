import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { WardenAgent, WardenRequestError, loadAgentKey } from '../../src/sdk/index.js';

import { BIN, serve, stop } from '../support/serve.js';
const run = promisify(execFile);

describe('the warden CLI', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof serve>>;
  let adminKey: string;
  const cli = (args: string[]) =>
    run(process.execPath, [BIN, ...args], { env: { ...process.env, WARDEN_URL: server.url, WARDEN_ADMIN_KEY: adminKey }, cwd: dir });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-cli-'));
    server = await serve(join(dir, 'state'));
    adminKey = /(wdn_\S+)/.exec(server.output())?.[1] ?? '';
  });
  after(async () => {
    if (server) await stop(server.child);
    await rm(dir, { recursive: true, force: true });
  });

  it('prints an admin key on first start, keeps only its hash, and restricts the data directory', async () => {
    assert.match(adminKey, /^wdn_key_[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    const secret = adminKey.split('.')[1]!;
    const db = await readFile(join(dir, 'state', 'warden.db'));
    assert.ok(!db.includes(Buffer.from(secret)), 'the database does not hold the key');
    assert.equal((await stat(join(dir, 'state'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'state', 'warden.yaml'))).mode & 0o777, 0o600);
  });

  it('registers an agent, writing its generated private key with mode 0600', async () => {
    const { stdout } = await cli([
      'agent', 'add', '--name', 'triage-bot', '--owner', 'alice@example.com', '--purpose', 'triage tickets',
      '--risk', 'limited', '--capability', 'github.*', '--capability', 'jira.read_issue', '--key-out', 'triage.jwk',
    ]);
    assert.match(stdout, /agt_[0-9a-z]+/);
    assert.match(stdout, /Private key written to triage\.jwk/);
    assert.equal((await stat(join(dir, 'triage.jwk'))).mode & 0o777, 0o600);
    const list = JSON.parse((await cli(['--json', 'agent', 'list'])).stdout) as { name: string; status: string }[];
    assert.deepEqual(list.map((a) => [a.name, a.status]), [['triage-bot', 'active']]);
    await assert.rejects(
      cli(['agent', 'add', '--name', 'again', '--owner', 'a', '--purpose', 'b', '--risk', 'minimal', '--capability', 'x.y', '--key-out', 'triage.jwk']),
      'an existing key file is never overwritten',
    );
  });

  it('lets an agent work through the SDK, and cuts it off at once when suspended from the CLI', async () => {
    const agentId = (JSON.parse((await cli(['--json', 'agent', 'show', 'triage-bot'])).stdout) as { agent: { id: string } }).agent.id;
    const agent = new WardenAgent({ wardenUrl: server.url, agentId, key: await loadAgentKey(join(dir, 'triage.jwk')) });
    const task = await agent.startTask({ purpose: 'triage ticket 42', scope: ['github.list_issues'] });
    assert.equal((await task.fetch('/agent/v1/whoami')).status, 200);
    await task.refresh();
    const me = (await (await task.fetch('/agent/v1/whoami')).json()) as { task: string };
    assert.equal(me.task, task.taskId);

    const { stdout } = await cli(['agent', 'suspend', 'triage-bot', '--reason', 'odd behaviour']);
    assert.match(stdout, /is now suspended/);
    const res = await task.fetch('/agent/v1/whoami');
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'CRED_REVOKED');
    await assert.rejects(agent.startTask({ purpose: 'x', scope: ['github.list_issues'] }), (e: unknown) => e instanceof WardenRequestError && e.code === 'AGENT_SUSPENDED');

    await cli(['agent', 'resume', 'triage-bot']);
    const second = await agent.startTask({ purpose: 'triage ticket 43', scope: ['github.list_issues'] });
    await cli(['task', 'revoke', second.taskId, '--reason', 'done by hand']);
    assert.equal((await second.fetch('/agent/v1/whoami')).status, 401);
    await assert.rejects(second.refresh(), (e: unknown) => e instanceof WardenRequestError && e.code === 'TASK_ENDED');

    const third = await agent.startTask({ purpose: 'triage ticket 44', scope: ['jira.read_issue'] });
    await third.end();
    assert.equal((await third.fetch('/agent/v1/whoami')).status, 401);
  });

  it('explains a missing admin key and an API refusal with the stable code', async () => {
    const noKey = run(process.execPath, [BIN, 'agent', 'list'], { env: { ...process.env, WARDEN_URL: server.url, WARDEN_ADMIN_KEY: '' } });
    await assert.rejects(noKey, (e: { stderr: string; code: number }) => e.code === 1 && /AUTH_REQUIRED/.test(e.stderr));
    await assert.rejects(cli(['agent', 'show', 'no-such-agent']), (e: { stderr: string }) => /AGENT_NOT_FOUND/.test(e.stderr));
  });

  it('rotates the signing key and lists the events', async () => {
    const { stdout } = await cli(['keys', 'rotate']);
    assert.match(stdout, /Signing with \S+; \S+ verifies until/);
    const events = JSON.parse((await cli(['--json', 'events', '--limit', '1000'])).stdout) as { type: string }[];
    const types = new Set(events.map((e) => e.type));
    for (const t of ['admin.bootstrap', 'agent.register', 'agent.suspend', 'agent.resume', 'task.grant', 'task.revoke', 'task.complete', 'credential.issue', 'signing_key.rotate']) {
      assert.ok(types.has(t), t);
    }
  });

  it('prints no admin key on a later start and keeps init idempotent', async () => {
    assert.equal(await stop(server.child), 0);
    server = await serve(join(dir, 'state'));
    assert.doesNotMatch(server.output(), /wdn_/);
    const { stdout } = await run(process.execPath, [BIN, 'init', '--data-dir', join(dir, 'state')]);
    assert.match(stdout, /Already initialised/);
    // The old admin key still works against the restarted server.
    assert.match((await cli(['agent', 'list'])).stdout, /triage-bot/);
  });

  it('refuses a config file with an unknown key, naming it', async () => {
    const bad = join(dir, 'bad');
    await run(process.execPath, [BIN, 'init', '--data-dir', bad]);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(bad, 'warden.yaml'), 'tokens:\n  accessTokenTTL: 99999\n');
    await assert.rejects(
      run(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', bad]),
      (e: { code: number; stderr: string }) => e.code === 2 && /tokens/.test(e.stderr) && /accessTokenTTL/.test(e.stderr),
    );
  });
});
