import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { WardenAgent, generateAgentKey } from '../../src/sdk/index.js';
import { BIN, serve, stop } from '../support/serve.js';

const run = promisify(execFile);

/**
 * The write-ahead promise under the harshest stop: SIGKILL while calls are in flight. After it,
 * the log must verify and every request that reached the upstream must have its `tool.call` entry.
 */
describe('the audit log after SIGKILL under load', () => {
  let dir: string;
  let origin: Server;
  const reached: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-crash-'));
    origin = createServer((req, res) => {
      reached.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const port = (origin.address() as AddressInfo).port;
    await writeFile(
      join(dir, 'warden.yaml'),
      `audit: { checkpointEverySec: 1 }
limits: { agent: { ratePerSec: 100000, burst: 100000 }, task: { calls: 1000000 } }
upstreams:
  http:
    - name: api
      baseUrl: http://127.0.0.1:${port}
      methods: [GET]
      pathPrefixes: [/items]
      allowPrivateNetwork: [127.0.0.1/32]
      risk: low
`,
      { mode: 0o600 },
    );
  });
  after(async () => {
    await new Promise<void>((r) => origin.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('verifies after the kill, and every call that reached the upstream has its entry', async () => {
    const server = await serve(dir);
    const adminKey = /(wdn_\S+)/.exec(server.output())?.[1] ?? '';
    const key = await generateAgentKey('ES256');
    const res = await fetch(`${server.url}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'loader', owner: 'ops@example.com', purpose: 'crash test', riskCategory: 'minimal', capabilities: ['api.*'], maxTaskLifetimeSec: 3600, publicKeys: [key.publicJwk] }),
    });
    assert.equal(res.status, 201);
    const agentId = ((await res.json()) as { agent: { id: string } }).agent.id;
    const session = await new WardenAgent({ wardenUrl: server.url, agentId, key }).startTask({ purpose: 'load', scope: ['api.get'] });

    let n = 0;
    let stopped = false;
    const worker = async () => {
      while (!stopped) {
        await session
          .fetch(`/proxy/api/items/${n++}`)
          .then((r) => r.arrayBuffer())
          .catch(() => undefined);
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    // Kill once the load is well under way (and at least one checkpoint was signed).
    const deadline = Date.now() + 60_000;
    while (reached.length < 400 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(reached.length >= 400, 'the load got going');
    await new Promise((r) => setTimeout(r, 300));
    server.child.kill('SIGKILL');
    await new Promise((r) => server.child.once('exit', r));
    stopped = true;
    await Promise.all(workers);

    const verified = await run(process.execPath, [BIN, '--json', 'audit', 'verify', '--data-dir', dir]);
    const report = JSON.parse(verified.stdout);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.ok(report.checkpointsVerified >= 1);

    const db = new Database(join(dir, 'warden.db'), { readonly: true });
    const paths = new Set(
      (db.prepare("SELECT entry FROM audit_log WHERE type = 'tool.call'").all() as { entry: string }[]).map((r) => (JSON.parse(r.entry).data.request as { path: string }).path),
    );
    db.close();
    const missing = reached.filter((url) => !paths.has(url.split('?')[0]!));
    assert.deepEqual(missing, [], `${missing.length} of ${reached.length} forwarded calls have no entry`);

    // Warden starts again on the same log, and keeps it verifiable.
    const again = await serve(dir);
    const cp = await fetch(`${again.url}/v1/audit/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(cp.status, 200);
    assert.equal(await stop(again.child), 0);
    const final = JSON.parse((await run(process.execPath, [BIN, '--json', 'audit', 'verify', '--data-dir', dir])).stdout);
    assert.equal(final.ok, true, JSON.stringify(final.problems));
    assert.ok(final.entries > report.entries);
  });
});
