import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { verifyCheckpoint, parseVerifierKey } from '../../src/audit/checkpoint/index.js';
import { WardenAgent, type TaskSession } from '../../src/sdk/index.js';
import { BACKENDS, registerAgent, startWarden, type TestWarden } from '../support/harness.js';
import { RefTree, refLeafHash } from '../support/merkle-reference.js';

const BIN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));
const run = promisify(execFile);

async function startOrigin(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** An OTLP/HTTP logs receiver: what a SIEM's collector would see. */
async function startSiem(): Promise<{ url: string; records: any[]; headers: Record<string, unknown>[]; close: () => Promise<void> }> {
  const records: any[] = [];
  const headers: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      headers.push(req.headers);
      const parsed = JSON.parse(body);
      for (const rl of parsed.resourceLogs) for (const sl of rl.scopeLogs) records.push(...sl.logRecords);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`, records, headers, close: () => new Promise((r) => server.close(() => r())) };
}

const config = (origin: string, otlp = 'http://127.0.0.1:9/v1/logs') => `
audit:
  checkpointEverySec: 0
  capture: { tools: [api.post] }
  export: [{ name: siem, format: otlp, url: '${otlp}', intervalSec: 0.2, headers: { x-siem-token: abc } }]
limits: { agent: { ratePerSec: 1000, burst: 1000 } }
upstreams:
  http:
    - name: api
      baseUrl: ${origin}
      methods: [GET, POST]
      pathPrefixes: [/items]
      allowPrivateNetwork: [127.0.0.1/32]
      risk: low
`;

for (const backend of BACKENDS) {
  describe(`the audit log on ${backend}`, () => {
    let origin: Awaited<ReturnType<typeof startOrigin>>;
    let tw: TestWarden & { databaseUrl: string | undefined };
    let session: TaskSession;
    let siem: Awaited<ReturnType<typeof startSiem>>;
    const cli = (args: string[]) =>
      run(process.execPath, [BIN, ...args], { env: { ...process.env, WARDEN_URL: tw.url, WARDEN_ADMIN_KEY: tw.adminKey, WARDEN_DATA_DIR: tw.dataDir, ...(tw.databaseUrl ? { WARDEN_DATABASE_URL: tw.databaseUrl } : {}) }, cwd: tw.dataDir });

    before(async () => {
      origin = await startOrigin();
      siem = await startSiem();
      tw = await startWarden(backend, { config: config(origin.url, siem.url) });
      const agent = await registerAgent(tw, { capabilities: ['api.*'] });
      const sdk = new WardenAgent({ wardenUrl: tw.warden.context.urls.base, agentId: agent.id, key: agent.key });
      session = await sdk.startTask({ purpose: 'audit tests', scope: ['api.*'] });
      // Concurrent calls: their entries share group commits.
      for (let round = 0; round < 16; round++) {
        await Promise.all(Array.from({ length: 8 }, (_, i) => session.fetch(`/proxy/api/items/${round * 8 + i}`).then((r) => r.arrayBuffer())));
      }
      await session.fetch('/proxy/api/items/new', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'widget' }) }).then((r) => r.arrayBuffer());
    });
    after(async () => {
      await tw?.close();
      await origin?.close();
      await siem?.close();
    });

    it('ships every entry to the SIEM over OTLP/HTTP, in order, with the chain as attributes', async () => {
      const size = (await tw.admin('GET', '/v1/audit/state')).body.size as number;
      const deadline = Date.now() + 30_000;
      while (siem.records.length < size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const seqs = siem.records.map((r) => Number(r.attributes.find((a: any) => a.key === 'warden.seq').value.intValue));
      assert.deepEqual(seqs.slice(0, size), Array.from({ length: size }, (_, i) => i));
      assert.equal(siem.headers[0]!['x-siem-token'], 'abc');
      const call = siem.records.find((r) => r.eventName === 'tool.call');
      assert.equal(call.attributes.find((a: any) => a.key === 'gen_ai.tool.name').value.stringValue, 'api.get');
      const status = (await tw.admin('GET', '/v1/audit/exporters')).body.exporters[0];
      assert.equal(status.name, 'siem');
      assert.ok(status.cursor >= size);
    });

    it('numbers entries without gaps and records each call before and after with its chain', async () => {
      const entries = (await tw.admin('GET', '/v1/audit/entries?limit=10000')).body.entries as any[];
      assert.deepEqual(entries.map((e) => e.seq), entries.map((_, i) => i));
      const calls = entries.filter((e) => e.type === 'tool.call');
      assert.equal(calls.length, 129);
      const post = calls.find((e) => e.chain.tool === 'api.post');
      assert.equal(post.data.args.method, 'POST');
      assert.equal(post.data.args.path, '/items/new');
      assert.equal(post.chain.task, session.taskId);
      assert.equal(post.chain.decision.effect, 'allow');
      const get = calls.find((e) => e.chain.tool === 'api.get');
      assert.equal(get.data.args, undefined, 'arguments are captured only for the configured tools');
    });

    it('searches by task, tool, type prefix and outcome', async () => {
      const byTool = (await tw.admin('GET', '/v1/audit/entries?tool=api.post&limit=100')).body.entries as any[];
      assert.deepEqual([...new Set(byTool.map((e) => e.type))].sort(), ['tool.call', 'tool.result']);
      const toolTypes = (await tw.admin('GET', `/v1/audit/entries?type=tool.*&task=${session.taskId}&limit=1000`)).body.entries as any[];
      assert.equal(toolTypes.length, 258);
      const { stdout } = await cli(['--json', 'audit', 'search', '--task', session.taskId, '--type', 'task.grant']);
      assert.deepEqual((JSON.parse(stdout) as any[]).map((e) => e.type), ['task.grant']);
    });

    it('replays a task in order: the grant and the decision behind it, then each call and its result', async () => {
      const { stdout } = await cli(['audit', 'replay', session.taskId]);
      const lines = stdout.trim().split('\n');
      assert.match(lines[0]!, new RegExp(`^task ${session.taskId} \\(active\\) for agent agt_\\w+: "audit tests"`));
      const types = lines.slice(3).map((l) => /^#\s*\d+ \S+ (\S+)/.exec(l)?.[1]);
      assert.deepEqual(types.slice(0, 3), ['policy.decide', 'task.grant', 'credential.issue']);
      assert.equal(types.filter((t) => t === 'tool.call').length, 129);
      assert.match(stdout, /tool\.call +success +api\.post decision=allow .*captured args=/);
    });

    it('signs checkpoints whose roots and proofs match an independent RFC 6962 implementation', async () => {
      const first = (await tw.admin('POST', '/v1/audit/checkpoints', { size: 100 })).body;
      const second = (await tw.admin('POST', '/v1/audit/checkpoints', {})).body;
      const { vkey, origin: logOrigin } = (await tw.admin('GET', '/v1/audit/key')).body;
      const verifier = parseVerifierKey(vkey);
      const cp1 = verifyCheckpoint(first.note, [verifier], logOrigin);
      const cp2 = verifyCheckpoint(second.note, [verifier], logOrigin);
      assert.equal(cp1.size, 100);

      const res = await fetch(`${tw.url}/v1/audit/export`, { headers: { authorization: `Bearer ${tw.adminKey}` } });
      const lines = (await res.text()).split('\n').filter((l) => l !== '');
      const ref = new RefTree(lines.map((l) => refLeafHash(Buffer.from(l, 'utf8'))));
      assert.deepEqual(Buffer.from(cp1.root), ref.mth(0, 100));
      assert.deepEqual(Buffer.from(cp2.root), ref.mth(0, cp2.size));

      for (const seq of [0, 57, 99, cp2.size - 1]) {
        const p = (await tw.admin('GET', `/v1/audit/proofs/inclusion?seq=${seq}&size=${cp2.size}`)).body;
        assert.deepEqual(p.proof, ref.path(seq, 0, cp2.size).map((h) => h.toString('base64')), `inclusion of ${seq}`);
        assert.equal(p.leafHash, refLeafHash(Buffer.from(lines[seq]!, 'utf8')).toString('base64'));
      }
      const c = (await tw.admin('GET', `/v1/audit/proofs/consistency?from=100&to=${cp2.size}`)).body;
      assert.deepEqual(c.proof, ref.proof(100, cp2.size).map((h) => h.toString('base64')));
      assert.equal((await tw.admin('GET', `/v1/audit/proofs/inclusion?seq=${cp2.size + 5}`)).body.error.code, 'INVALID_INPUT');
    });

    it('verifies an export elsewhere with only the public key, and finds a changed byte in it', async () => {
      const out = join(tw.dataDir, 'export.jsonl');
      const cp = join(tw.dataDir, 'checkpoint.txt');
      await cli(['audit', 'export', '--out', out, '--checkpoint', cp]);
      const vkey = (await cli(['audit', 'key'])).stdout.trim();
      const ok = JSON.parse((await cli(['--json', 'audit', 'verify', '--entries', out, '--checkpoint', cp, '--key', vkey])).stdout);
      assert.equal(ok.ok, true);
      assert.ok(ok.checkpointsVerified === 1 && ok.entries > 240);

      // The same check with none of Warden's code: a Python script and openssl.
      const script = fileURLToPath(new URL('../../../examples/verify-audit-export.py', import.meta.url));
      assert.match((await run('python3', [script, out, cp, vkey])).stdout, /^OK: \d+ entries match the checkpoint/);

      const text = await readFile(out, 'utf8');
      const tampered = join(tw.dataDir, 'tampered.jsonl');
      await writeFile(tampered, text.replace('"outcome":"denied"', '"outcome":"success"').replace('"/items/7"', '"/items/8"'));
      const bad = await cli(['--json', 'audit', 'verify', '--entries', tampered, '--checkpoint', cp, '--key', vkey]).then(
        () => assert.fail('verify passed a tampered export'),
        (err: { stdout: string; code: number }) => ({ code: err.code, report: JSON.parse(err.stdout) }),
      );
      assert.equal(bad.code, 1);
      assert.equal(bad.report.ok, false);
      assert.ok(bad.report.problems.some((p: any) => p.kind === 'root_mismatch'));
      await assert.rejects(run('python3', [script, tampered, cp, vkey]), /root mismatch/);
    });

    it('verifies the database, then archives old entries with a checkpoint and still verifies', async () => {
      const verified = JSON.parse((await cli(['--json', 'audit', 'verify'])).stdout);
      assert.equal(verified.ok, true, JSON.stringify(verified.problems));
      const archive = join(tw.dataDir, 'archive.jsonl');
      const { stdout } = await cli(['audit', 'archive', '--below', '300', '--out', archive]);
      assert.match(stdout, /archived 256 entries below 256/);
      assert.equal((await tw.admin('GET', '/v1/audit/entries?before=256&limit=10')).body.entries.length, 0);
      const after = JSON.parse((await cli(['--json', 'audit', 'verify'])).stdout);
      assert.equal(after.ok, true, JSON.stringify(after.problems));
      const vkey = (await cli(['audit', 'key'])).stdout.trim();
      const offline = JSON.parse((await cli(['--json', 'audit', 'verify', '--entries', archive, '--checkpoint', `${archive}.checkpoint`, '--key', vkey])).stdout);
      assert.equal(offline.ok, true);
      assert.equal(offline.entries, 256);
      // Proofs for what stayed still work across the archived part.
      const size = (await tw.admin('POST', '/v1/audit/checkpoints', {})).body.size;
      assert.equal((await tw.admin('GET', `/v1/audit/proofs/inclusion?seq=260&size=${size}`)).status, 200);
      assert.equal((await tw.admin('GET', `/v1/audit/proofs/inclusion?seq=10&size=${size}`)).body.error.code, 'NOT_FOUND');
    });
  });
}

describe('audit verify on a tampered SQLite database', () => {
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let tw: TestWarden & { databaseUrl: string | undefined };
  let db: string;
  let size = 0;

  before(async () => {
    origin = await startOrigin();
    tw = await startWarden('sqlite', { config: config(origin.url) });
    const agent = await registerAgent(tw, { capabilities: ['api.*'] });
    const sdk = new WardenAgent({ wardenUrl: tw.warden.context.urls.base, agentId: agent.id, key: agent.key });
    const session = await sdk.startTask({ purpose: 'tamper tests', scope: ['api.*'] });
    for (let i = 0; i < 20; i++) await session.fetch(`/proxy/api/items/${i}`).then((r) => r.arrayBuffer());
    size = (await tw.admin('POST', '/v1/audit/checkpoints', {})).body.size;
    db = join(tw.dataDir, 'warden.db');
  });
  after(async () => {
    await tw?.close();
    await origin?.close();
  });

  /** Copies the database, lets `tamper` at it (past the append-only triggers, as an attacker would), verifies the copy. */
  async function verifyTampered(name: string, tamper: (db: Database.Database) => void): Promise<any> {
    const copy = join(tw.dataDir, `${name}.db`);
    // A backup, not a file copy: recent commits may still be in the WAL.
    const source = new Database(db, { readonly: true });
    await source.backup(copy);
    source.close();
    const handle = new Database(copy);
    handle.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
    tamper(handle);
    handle.close();
    const res = await run(process.execPath, [BIN, '--json', 'audit', 'verify', '--data-dir', tw.dataDir, '--database', `sqlite:${copy}`]).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
    );
    return { code: res.code, ...JSON.parse(res.stdout) };
  }

  it('passes the untouched log', async () => {
    const r = await verifyTampered('clean', () => undefined);
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    assert.equal(r.size, size);
  });

  it('finds one changed byte, at its position', async () => {
    const r = await verifyTampered('changed', (h) => h.prepare("UPDATE audit_log SET entry = replace(entry, '\"latencyMs\":', '\"latencyMs\":1') WHERE seq = 30").run());
    assert.equal(r.code, 1);
    assert.deepEqual(r.problems.filter((p: any) => p.kind === 'changed').map((p: any) => p.position), [30]);
    assert.ok(r.problems.some((p: any) => p.kind === 'root_mismatch' && p.position === size));
  });

  it('finds a deleted entry, at its position', async () => {
    const r = await verifyTampered('deleted', (h) => h.prepare('DELETE FROM audit_log WHERE seq = 12').run());
    assert.deepEqual(r.problems.filter((p: any) => p.kind === 'removed').map((p: any) => p.position), [12]);
  });

  it('finds two swapped entries, at both positions', async () => {
    const r = await verifyTampered('swapped', (h) => {
      const [a, b] = [20, 21].map((s) => h.prepare('SELECT * FROM audit_log WHERE seq = ?').get(s) as any);
      const put = h.prepare('UPDATE audit_log SET time = @time, type = @type, outcome = @outcome, agent = @agent, task = @task, person = @person, tool = @tool, entry = @entry, leaf = @leaf WHERE seq = @at');
      put.run({ ...b, at: 20 });
      put.run({ ...a, at: 21 });
    });
    assert.deepEqual(r.problems.filter((p: any) => p.kind === 'reordered').map((p: any) => p.position), [20, 21]);
  });

  it('finds a truncated tail', async () => {
    const r = await verifyTampered('truncated', (h) => h.prepare('DELETE FROM audit_log WHERE seq >= ?').run(size - 3));
    assert.ok(r.problems.some((p: any) => p.kind === 'truncated' && p.position === size - 3), JSON.stringify(r.problems));
  });
});
