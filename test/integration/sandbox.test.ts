import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WardenAgent, type TaskSession } from '../../src/sdk/index.js';
import { echo, startUpstream, type TestUpstream } from '../support/egress.js';
import { registerAgent, startWarden, type TestWarden } from '../support/harness.js';
import { everythingServer, fixture, REPO_ROOT } from '../support/mcp-upstreams.js';
import { BIN } from '../support/serve.js';
import { eventually } from '../support/eventually.js';
import { mcpRefusal as refused } from '../support/mcp-refusal.js';
import { testSandboxes } from '../support/sandbox.js';
import { UpstreamConnection } from '../../src/mcp-gateway/upstreams/upstream-connection.js';

const TOKEN = `tk_${randomBytes(20).toString('hex')}`;
const JAIL_SECRET = `js_${randomBytes(16).toString('hex')}`;
const NEIGHBOUR_SECRET = `ns_${randomBytes(16).toString('hex')}`;
const node = JSON.stringify(process.execPath);
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

const config = (api: string, shared: string): string => `
approvals: { waitSec: 0, expirySec: 600 }
limits: { agent: { ratePerSec: 1000, burst: 1000 } }
upstreams:
  http:
    - name: echoapi
      baseUrl: ${api}/api
      methods: [GET, POST]
      credentials: [{ secret: echoapi.token, header: Authorization, format: 'Bearer {value}' }]
      allowPrivateNetwork: [127.0.0.1/32]
      risk: low
    - name: elsewhere
      baseUrl: ${api}/elsewhere
      allowPrivateNetwork: [127.0.0.1/32]
      risk: low
  mcp:
    - name: jail
      transport: stdio
      command: ${node}
      args: [${JSON.stringify(fixture('escape.mjs'))}]
      env: { JAIL_SECRET: { secret: jail.secret } }
      defaults: { risk: low }
      sandbox:
        limits: { memoryMb: 192, pids: 64 }
        egress: [echoapi]
        mounts: [{ path: ${JSON.stringify(tmpdir())}, at: /hosttmp }]
    - name: neighbour
      transport: stdio
      command: ${node}
      args: [${JSON.stringify(fixture('escape.mjs'))}]
      env: { NEIGHBOUR_SECRET: { secret: neighbour.secret } }
      defaults: { risk: low }
    - name: files
      transport: stdio
      command: ${node}
      args: [${JSON.stringify(join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-filesystem', 'dist', 'index.js'))}, ${JSON.stringify(shared)}]
      defaults: { risk: low }
      sandbox:
        mounts: [{ path: ${JSON.stringify(shared)} }]
    - name: loose
      transport: stdio
      command: ${node}
      args: [${JSON.stringify(fixture('escape.mjs'))}]
      defaults: { risk: low }
      sandbox: false
    - name: shell
      transport: builtin
      server: exec
      defaults: { risk: low }
      sandbox:
        limits: { wallTimeSec: 20 }
        egress: [echoapi]
      exec: { defaultTimeoutSec: 10 }
    - name: restricted
      transport: builtin
      server: exec
      defaults: { risk: low }
      exec: { commands: [echo] }
`;

const POLICY = `
@id("sandboxes-read-only")
forbid(principal, action == Warden::Action::"echoapi.post", resource)
when { context.args has sandbox };

@id("no-rm")
forbid(principal, action == Warden::Action::"shell.exec", resource)
when { context.args.command == "rm" };
`;

const json = (r: any): any => JSON.parse((r.content as { text: string }[])[0]!.text);


describe('sandboxed upstreams and exec, with real bubblewrap', () => {
  let tw: TestWarden;
  let api: TestUpstream;
  let shared: string;
  let sdk: WardenAgent;
  let session: TaskSession;
  let client: Client;
  const clients: Client[] = [];

  const connect = async (s: TaskSession): Promise<Client> => {
    const c = new Client({ name: 'sandbox-test', version: '1.0.0' });
    await c.connect(s.mcpTransport());
    clients.push(c);
    return c;
  };
  const call = (name: string, args: Record<string, unknown> = {}, c = client) => c.callTool({ name, arguments: args });
  const jail = async (tool: string, args: Record<string, unknown> = {}): Promise<any> => json(await call(`jail.${tool}`, args));
  const events = async (type: string) => (await tw.admin('GET', `/v1/events?type=${type}&limit=1000`)).body.events as any[];
  const wardenPort = (): number => Number(new URL(tw.url).port);

  before(async () => {
    api = await startUpstream(echo);
    shared = await mkdtemp(join(tmpdir(), 'warden-shared-'));
    await writeFile(join(shared, 'readme.txt'), 'shared with the files server\n');
    // World-readable, as a directory given to a read-only mount must be for the sandbox's user.
    await chmod(shared, 0o755);
    tw = await startWarden('sqlite', { config: config(api.origin, shared) });
    for (const [name, value] of [
      ['echoapi.token', TOKEN],
      ['jail.secret', JAIL_SECRET],
      ['neighbour.secret', NEIGHBOUR_SECRET],
    ] as const) {
      assert.equal((await tw.admin('PUT', `/v1/secrets/${name}`, { value })).status, 201);
    }
    await writeFile(join(tw.dataDir, 'policies', 'sandbox.cedar'), POLICY);
    assert.equal((await tw.admin('POST', '/v1/policy/reload', {})).status, 200);
    const agent = await registerAgent(tw, { capabilities: ['jail.*', 'neighbour.*', 'files.*', 'loose.*', 'shell.*', 'restricted.*', 'echoapi.*'] });
    sdk = new WardenAgent({ wardenUrl: tw.warden.context.urls.base, agentId: agent.id, key: agent.key });
    session = await sdk.startTask({ purpose: 'sandbox tests', scope: ['jail.*', 'neighbour.*', 'files.*', 'loose.*', 'shell.*', 'restricted.*', 'echoapi.*'] });
    client = await connect(session);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await tw?.close();
    await api?.close();
    await rm(shared, { recursive: true, force: true });
  });

  describe('escape attempts from a sandboxed upstream', () => {
    it('runs as an unprivileged user with no capabilities, in its scratch directory', async () => {
      const me = await jail('whoami');
      assert.notEqual(me.uid, 0);
      assert.equal(me.cwd, '/scratch');
      const status = await jail('read', { path: '/proc/self/status' });
      assert.match(status.value, /CapEff:\s+0000000000000000/);
      assert.match(status.value, /CapBnd:\s+0000000000000000/);
      assert.match(status.value, /NoNewPrivs:\s+1/);
    });

    it('cannot make a user namespace to become root in it', async () => {
      const r = await jail('userns');
      assert.notEqual(r.status, 0, JSON.stringify(r));
      assert.notEqual(r.stdout.trim(), '0');
    });

    it('cannot connect to a loopback service of the host, straight or through the proxy', async () => {
      assert.deepEqual(await jail('connect', { host: '127.0.0.1', port: wardenPort() }), { ok: false, code: 'ECONNREFUSED' });
      assert.deepEqual(await jail('connect', { host: '127.0.0.1', port: api.port }), { ok: false, code: 'ECONNREFUSED' });
      const viaProxy = await jail('http', { url: `http://127.0.0.1:${wardenPort()}/v1/agents`, proxy: true });
      assert.equal(viaProxy.status, 403);
      assert.equal(viaProxy.headers['x-warden-code'], 'SANDBOX_EGRESS_DENIED');
      assert.equal(JSON.parse(viaProxy.body).error.details.reason, 'undeclared-destination');
    });

    it('cannot reach a private address or the cloud metadata service', async () => {
      assert.deepEqual(await jail('connect', { host: '10.1.2.3', port: 80 }), { ok: false, code: 'ENETUNREACH' });
      const metadata = await jail('http', { url: 'http://169.254.169.254/latest/meta-data/', proxy: true });
      assert.equal(metadata.status, 403);
      assert.equal(metadata.headers['x-warden-code'], 'SANDBOX_EGRESS_DENIED');
    });

    it('cannot reach the internet directly: no route, no DNS, no TLS tunnel through the proxy', async () => {
      assert.deepEqual(await jail('connect', { host: '1.1.1.1', port: 443 }), { ok: false, code: 'ENETUNREACH' });
      const dns = await jail('resolve', { name: 'example.com' });
      assert.equal(dns.ok, false);
      assert.ok(['EAI_AGAIN', 'ENOTFOUND', 'ECONNREFUSED'].includes(dns.code), dns.code);
      assert.deepEqual(await jail('tunnel', { host: 'example.com', port: 443 }), { ok: false, status: 403 });
      const straight = await jail('http', { url: 'http://example.com/', proxy: false });
      assert.equal(straight.ok, false);
      const denied = (await events('sandbox.egress')).filter((e) => e.data.upstream === 'jail');
      assert.ok(denied.some((e) => e.data.reason === 'tunnel-refused' && e.data.host === 'example.com'));
      assert.ok(denied.some((e) => e.data.reason === 'undeclared-destination' && e.data.host === '169.254.169.254'));
      assert.ok(denied.every((e) => e.outcome === 'denied' && e.code === 'W7002W'));
    });

    it("cannot read Warden's data directory or keys, even through a mount of its parent", async () => {
      assert.equal((await jail('read', { path: join(tw.dataDir, 'warden.db') })).code, 'ENOENT');
      assert.equal((await jail('list', { path: tw.dataDir })).code, 'ENOENT');
      const through = `/hosttmp/${tw.dataDir.slice(tmpdir().length + 1)}`;
      const listed = await jail('list', { path: through });
      assert.equal(listed.ok, false, JSON.stringify(listed));
      assert.equal((await jail('read', { path: `${through}/keys/master.key` })).ok, false);
      assert.equal((await jail('read', { path: `${through}/warden.yaml` })).ok, false);
    });

    it('cannot read /etc/shadow', async () => {
      assert.deepEqual(await jail('read', { path: '/etc/shadow' }), { ok: false, code: 'EACCES' });
      // The system is there to use, read-only.
      assert.equal((await jail('read', { path: '/etc/hostname' })).ok !== undefined, true);
    });

    it("cannot read another upstream's scratch directory or injected secret", async () => {
      assert.equal((await json(await call('neighbour.write', { path: '/scratch/private.txt', content: 'neighbour only' }))).ok, true);
      assert.equal((await json(await call('neighbour.read', { path: '/scratch/private.txt' }))).value, 'neighbour only');
      // Its own scratch is another directory; the neighbour's is under Warden's (hidden) data directory.
      assert.equal((await jail('read', { path: '/scratch/private.txt' })).code, 'ENOENT');
      assert.equal((await jail('read', { path: join(tw.dataDir, 'sandboxes', 'neighbour', 'scratch', 'private.txt') })).code, 'ENOENT');
      const through = `/hosttmp/${tw.dataDir.slice(tmpdir().length + 1)}/sandboxes/neighbour/scratch/private.txt`;
      assert.equal((await jail('read', { path: through })).ok, false);

      const env = await jail('env');
      assert.ok(!JSON.stringify(env).includes(NEIGHBOUR_SECRET));
      // Its own secret reaches it (and is redacted on the way back to the agent).
      assert.ok(!JSON.stringify(env).includes(JAIL_SECRET));
      assert.match(String(env.JAIL_SECRET), /REDACTED/);
      const environ = await jail('environ');
      assert.ok(Object.keys(environ).length >= 2, 'sees the processes of its own sandbox');
      assert.ok(!JSON.stringify(environ).includes(NEIGHBOUR_SECRET));
      assert.equal(environ['1']?.code, 'EACCES', 'not even the sandbox init');
    });

    it('cannot write outside its scratch directory', async () => {
      for (const path of ['/etc/evil', '/usr/evil', '/evil', join(REPO_ROOT, 'evil'), join(shared, 'evil')]) {
        const r = await jail('write', { path, content: 'x' });
        assert.equal(r.ok, false, path);
        assert.ok(['EROFS', 'EACCES', 'ENOENT'].includes(r.code), `${path}: ${r.code}`);
      }
      assert.deepEqual(await jail('write', { path: '/scratch/mine.txt', content: 'mine' }), { ok: true });
      // The few devices there are work (programs open /dev/null all the time).
      assert.deepEqual(await jail('write', { path: '/dev/null', content: 'x' }), { ok: true });
      // /tmp is the sandbox's own.
      assert.deepEqual(await jail('write', { path: '/tmp/warden-escape-probe', content: 'x' }), { ok: true });
      assert.equal((await jail('read', { path: '/hosttmp/warden-escape-probe' })).code, 'ENOENT');
    });
  });

  describe('egress through the proxy', () => {
    it('lets an allowed request through, decided and recorded like an agent\'s own, credential injected by Warden', async () => {
      const before = api.seen.length;
      const r = await jail('http', { url: `${api.origin.replace('http://', 'http://')}/api/hello?x=1`, proxy: true });
      assert.equal(r.status, 200, JSON.stringify(r));
      const seen = api.seen.at(-1)!;
      assert.equal(api.seen.length, before + 1);
      assert.equal(seen.url, '/api/hello?x=1');
      assert.equal(seen.headers.authorization, `Bearer ${TOKEN}`);
      assert.match(String(seen.headers.via), /warden/);
      // The upstream echoed the credential; the sandbox got it redacted.
      assert.ok(!r.body.includes(TOKEN));
      const intent = (await events('tool.call')).find((e) => e.chain?.tool === 'echoapi.get' && e.data.request?.sandbox === 'jail');
      assert.ok(intent, 'tool.call recorded');
      assert.equal(intent.chain.task, session.taskId);
      const result = (await events('tool.result')).find((e) => e.data.intent === intent.seq);
      assert.equal(result?.outcome, 'success');
    });

    it('decides it with the policies: a forbid on requests from sandboxes holds', async () => {
      const r = await jail('http', { url: `${api.origin}/api/things`, method: 'POST', body: '{"a":1}', proxy: true });
      assert.equal(r.status, 403);
      assert.equal(r.headers['x-warden-code'], 'POLICY_DENIED');
      assert.deepEqual(JSON.parse(r.body).error.details.policies, ['sandboxes-read-only']);
    });

    it('refuses an HTTP upstream the sandbox does not declare, and an action outside the task scope', async () => {
      const other = await jail('http', { url: `${api.origin}/elsewhere/x`, proxy: true });
      assert.equal(other.status, 403);
      assert.equal(other.headers['x-warden-code'], 'SANDBOX_EGRESS_DENIED');
      const narrow = await sdk.startTask({ purpose: 'jail only', scope: ['jail.*'] });
      const c = await connect(narrow);
      const r = json(await call('jail.http', { url: `${api.origin}/api/hello`, proxy: true }, c));
      assert.equal(r.status, 403);
      assert.equal(r.headers['x-warden-code'], 'SCOPE_DENIED');
    });

    it('refuses a request no call is in flight for: no task\'s authority to decide it', async () => {
      const before = (await events('sandbox.egress')).length;
      await jail('http_later', { url: `${api.origin}/api/later`, afterMs: 200 });
      // No call to the jail until the refusal is in the log: nothing of ours is in flight when it asks.
      const refusal = await eventually(async () => (await events('sandbox.egress')).slice(before).find((e) => e.data.reason === 'no-call-in-flight'), 'the refusal recorded');
      assert.equal(refusal.error, 'SANDBOX_EGRESS_UNATTRIBUTED');
      const r = await jail('later_result');
      assert.equal(r.status, 403);
      assert.equal(r.headers['x-warden-code'], 'SANDBOX_EGRESS_UNATTRIBUTED');
      assert.equal(JSON.parse(r.body).error.details.reason, 'no-call-in-flight');
    });
  });

  describe('the positive path', () => {
    it('serves its declared directory with @modelcontextprotocol/server-filesystem, read-only', async () => {
      const listing = await call('files.list_directory', { path: shared });
      assert.match((listing.content as { text: string }[])[0]!.text, /readme\.txt/);
      const read = await call('files.read_text_file', { path: join(shared, 'readme.txt') });
      assert.match((read.content as { text: string }[])[0]!.text, /shared with the files server/);
      const write = await call('files.write_file', { path: join(shared, 'new.txt'), content: 'x' });
      assert.equal(write.isError, true);
      const outside = await call('files.read_text_file', { path: '/etc/hostname' });
      assert.equal(outside.isError, true, 'the server itself confines reads to its directory');
    });
  });

  describe('limits', () => {
    it('kills a fork bomb at the process limit, and Warden keeps serving', async () => {
      const running = ((await tw.admin('GET', '/v1/upstreams')).body.upstreams as any[]).find((u) => u.name === 'jail');
      assert.match(
        String(running?.sandbox?.enforcedBy),
        /^cgroup-v[12]$/,
        'this host gives Warden no writable cgroup with the memory, pids and cpu controllers: limits fall back to rlimits, which cannot kill a sandbox at its limit (docs/sandbox.md)',
      );
      const started = Date.now();
      const err = await refused(call('jail.fork_bomb'));
      assert.equal(err.code, 'UPSTREAM_UNAVAILABLE');
      assert.deepEqual([err.details.reason, err.details.limit], ['sandbox-limit', 'pids']);
      assert.ok(Date.now() - started < 20_000);
      const hit = await eventually(async () => (await events('sandbox.limit')).find((e) => e.data.upstream === 'jail' && e.data.limit === 'pids'), 'sandbox.limit recorded');
      assert.equal(hit.data.limits.pids, 64);
      // The same upstream restarts on its next call; the others never noticed.
      assert.equal((await jail('whoami')).cwd, '/scratch');
      assert.equal((await json(await call('neighbour.whoami'))).cwd, '/scratch');
    });

    it('kills a memory hog at the memory limit, and Warden keeps serving', async () => {
      const err = await refused(call('jail.hog'));
      assert.equal(err.code, 'UPSTREAM_UNAVAILABLE');
      assert.deepEqual([err.details.reason, err.details.limit], ['sandbox-limit', 'memory']);
      await eventually(async () => (await events('sandbox.limit')).find((e) => e.data.upstream === 'jail' && e.data.limit === 'memory'), 'sandbox.limit recorded');
      assert.equal((await jail('whoami')).cwd, '/scratch');
      assert.equal((await tw.admin('GET', '/v1/upstreams')).status, 200);
    });
  });

  describe('exec', () => {
    const exec = async (args: Record<string, unknown>, c = client) => (await call('shell.exec', args, c)) as any;

    it('runs a command in the sandbox and records exactly what ran, its exit code and output digests', async () => {
      const script = 'printf out; printf err >&2; exit 3';
      const r = await exec({ command: 'sh', args: ['-c', script] });
      assert.equal(r.isError, true);
      assert.equal(r.structuredContent.exitCode, 3);
      assert.equal(r.structuredContent.stdout, 'out');
      assert.equal(r.structuredContent.stderr, 'err');
      assert.equal(r.structuredContent.stdoutSha256, sha256('out'));
      const entry = (await events('sandbox.exec')).find((e) => e.data.argv?.[2] === script);
      assert.ok(entry, 'sandbox.exec recorded');
      assert.deepEqual(entry.data.argv, ['sh', '-c', script]);
      assert.equal(entry.data.exitCode, 3);
      assert.equal(entry.data.stdoutSha256, sha256('out'));
      assert.equal(entry.data.stderrSha256, sha256('err'));
      assert.equal(entry.chain.task, session.taskId);
      assert.equal(entry.chain.tool, 'shell.exec');
    });

    it('gives it the same isolation: unprivileged, no network but the proxy, no shadow, no data directory', async () => {
      const r = await exec({ command: 'sh', args: ['-c', `id -u; cat /etc/shadow; ls ${tw.dataDir}; echo x > /etc/x; echo done`] });
      const lines = r.structuredContent.stdout.trim().split('\n');
      assert.notEqual(lines[0], '0');
      assert.equal(lines.at(-1), 'done');
      assert.match(r.structuredContent.stderr, /shadow: Permission denied/);
      assert.match(r.structuredContent.stderr, /No such file or directory/);
      assert.match(r.structuredContent.stderr, /Read-only file system/);
      const direct = await exec({ command: 'curl', args: ['-sS', '--max-time', '3', '--noproxy', '*', `${api.origin}/api/direct`] });
      assert.notEqual(direct.structuredContent.exitCode, 0);
      const before = api.seen.length;
      const proxied = await exec({ command: 'curl', args: ['-sS', '--max-time', '5', '--noproxy', '', '--proxy', 'http://127.0.0.1:3128', `${api.origin}/api/via-proxy`] });
      assert.equal(proxied.structuredContent.exitCode, 0, proxied.structuredContent.stderr);
      assert.equal(api.seen.length, before + 1);
      assert.equal(api.seen.at(-1)!.headers.authorization, `Bearer ${TOKEN}`);
      assert.ok(!proxied.structuredContent.stdout.includes(TOKEN));
      // Node's own fetch, which before Node 24 ignores HTTP_PROXY, goes through it too. (This
      // test's upstream is on the host's loopback, which NO_PROXY keeps local, as curl's
      // --noproxy '' above: emptied for the one command.)
      const script = `fetch(${JSON.stringify(`${api.origin}/api/via-fetch`)}).then(async (r) => console.log(r.status, await r.text()))`;
      const fetched = await exec({ command: 'env', args: ['NO_PROXY=', 'no_proxy=', process.execPath, '-e', script] });
      assert.equal(fetched.structuredContent.exitCode, 0, fetched.structuredContent.stderr);
      assert.match(fetched.structuredContent.stdout, /^200 /);
      assert.equal(api.seen.length, before + 2);
      assert.equal(api.seen.at(-1)!.headers.authorization, `Bearer ${TOKEN}`, 'decided and injected by Warden like any sandbox request');
    });

    it('kills a command at its time limit', async () => {
      const started = Date.now();
      const r = await exec({ command: 'sleep', args: ['30'], timeoutSec: 1 });
      assert.equal(r.structuredContent.timedOut, true);
      assert.equal(r.structuredContent.exitCode, null);
      assert.ok(Date.now() - started < 10_000);
    });

    it("keeps each task's scratch directory its own", async () => {
      await exec({ command: 'sh', args: ['-c', 'echo mine > note.txt'] });
      assert.equal((await exec({ command: 'cat', args: ['note.txt'] })).structuredContent.stdout, 'mine\n');
      const other = await connect(await sdk.startTask({ purpose: 'another task', scope: ['shell.*'] }));
      const r = await exec({ command: 'cat', args: ['note.txt'] }, other);
      assert.notEqual(r.structuredContent.exitCode, 0);
    });

    it("removes a task's scratch directory once the task has ended, and only then", async () => {
      const ending = await sdk.startTask({ purpose: 'leaves a file behind', scope: ['shell.*'] });
      const c = await connect(ending);
      await exec({ command: 'sh', args: ['-c', 'echo left > behind.txt'] }, c);
      await exec({ command: 'sh', args: ['-c', 'echo kept > kept.txt'] });
      const dirOf = (task: string) => join(tw.dataDir, 'sandboxes', 'shell', 'tasks', task);
      const sandboxes = tw.warden.context.sandboxes!;
      assert.equal(await sandboxes.sweepTaskScratch(), 0, 'both tasks still live');
      assert.ok(existsSync(join(dirOf(ending.taskId), 'behind.txt')));
      await c.close().catch(() => undefined);
      await ending.end();
      assert.equal(await sandboxes.sweepTaskScratch(), 1);
      assert.ok(!existsSync(dirOf(ending.taskId)), "the ended task's directory is gone");
      assert.ok(existsSync(join(dirOf(session.taskId), 'kept.txt')), "the live task's stays");
    });

    it('is policy-checked like any tool, and runs only the commands its config lists', async () => {
      const denied = await refused(call('shell.exec', { command: 'rm', args: ['-rf', '/scratch'] }));
      assert.equal(denied.code, 'POLICY_DENIED');
      const r = (await call('restricted.exec', { command: 'cat', args: ['/etc/hostname'] })) as any;
      assert.equal(r.isError, true);
      assert.equal(r.structuredContent.error.code, 'EXEC_COMMAND_NOT_ALLOWED');
      const ok = (await call('restricted.exec', { command: 'echo', args: ['hi'] })) as any;
      assert.equal(ok.structuredContent.stdout, 'hi\n');
    });
  });

  describe('opting out and inventory', () => {
    it('runs an upstream unsandboxed only when its config says so, and says so in the audit log', async () => {
      const me = await json(await call('loose.whoami'));
      assert.equal(me.uid, process.getuid?.());
      const starts = await events('upstream.start');
      const loose = starts.find((e) => e.data.upstream === 'loose');
      assert.equal(loose?.data.sandboxed, false);
      assert.equal(loose?.data.sandbox, null);
      const jailed = starts.find((e) => e.data.upstream === 'jail');
      assert.equal(jailed?.data.sandboxed, true);
      assert.equal(jailed?.data.sandbox.limits.pids, 64);
      assert.deepEqual(jailed?.data.sandbox.egress, ['echoapi']);
      assert.ok(['cgroup-v1', 'cgroup-v2', 'rlimit'].includes(jailed?.data.sandbox.enforcedBy));
    });

    it('lists every upstream with its isolation (API and CLI)', async () => {
      const { upstreams } = (await tw.admin('GET', '/v1/upstreams')).body;
      const by = new Map(upstreams.map((u: any) => [u.name, u]));
      assert.equal((by.get('jail') as any).sandboxed, true);
      assert.deepEqual((by.get('jail') as any).sandbox.limits, { memoryMb: 192, pids: 64, cpus: 1, wallTimeSec: 86400 });
      assert.equal((by.get('loose') as any).sandboxed, false);
      assert.equal((by.get('shell') as any).sandboxed, true);
      assert.equal((by.get('echoapi') as any).sandboxed, null);
      const env = { ...process.env, WARDEN_URL: tw.url, WARDEN_ADMIN_KEY: tw.adminKey };
      const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'upstreams', 'list'], { env });
      assert.match(stdout, /^loose\s+stdio\s+NO \(sandbox: false\)/m);
      assert.match(stdout, /^jail\s+stdio\s+yes\s+192 MiB, 64 pids/m);
      const asJson = JSON.parse((await promisify(execFile)(process.execPath, [BIN, 'upstreams', 'list', '--json'], { env })).stdout);
      assert.equal(asJson.find((u: any) => u.name === 'loose').sandboxed, false);
    });
  });
});

describe('a host where the sandbox cannot be built', () => {
  let tw: TestWarden;
  let client: Client;
  const events = async (w: TestWarden, type: string) => (await w.admin('GET', `/v1/events?type=${type}&limit=1000`)).body.events as any[];

  before(async () => {
    tw = await startWarden('sqlite', {
      config: `
sandbox: { bwrap: /nonexistent/bin/bwrap }
upstreams:
  mcp:
    - name: boxed
      transport: stdio
      command: ${node}
      args: [${JSON.stringify(everythingServer())}, stdio]
      defaults: { risk: low }
    - name: loose
      transport: stdio
      command: ${node}
      args: [${JSON.stringify(fixture('escape.mjs'))}]
      defaults: { risk: low }
      sandbox: false
`,
    });
    const agent = await registerAgent(tw, { capabilities: ['boxed.*', 'loose.*'] });
    const sdk = new WardenAgent({ wardenUrl: tw.warden.context.urls.base, agentId: agent.id, key: agent.key });
    client = new Client({ name: 'sandbox-test', version: '1.0.0' });
    await client.connect((await sdk.startTask({ purpose: 'no sandbox here', scope: ['boxed.*', 'loose.*'] })).mcpTransport());
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await tw?.close();
  });

  it('refuses to start a sandboxed upstream, naming what is missing, and never runs it unsandboxed', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(!names.some((n) => n.startsWith('boxed.')), 'its tools were never listed');
    const err = await refused(client.callTool({ name: 'boxed.echo', arguments: { message: 'x' } }));
    // SANDBOX_UNAVAILABLE itself, or the restart circuit it opened, naming it.
    assert.ok(err.code === 'SANDBOX_UNAVAILABLE' || (err.code === 'UPSTREAM_UNAVAILABLE' && err.details.lastError === 'SANDBOX_UNAVAILABLE'), JSON.stringify(err));
    const boxed = ((await tw.admin('GET', '/v1/upstreams')).body.upstreams as any[]).find((u) => u.name === 'boxed');
    assert.equal(boxed.lastError, 'SANDBOX_UNAVAILABLE');
    assert.equal(boxed.pid, undefined);
    const fails = (await events(tw, 'upstream.fail')).filter((e) => e.data.upstream === 'boxed');
    assert.ok(fails.length > 0 && fails.every((e) => e.data.code === 'SANDBOX_UNAVAILABLE' && e.data.missing === 'bwrap'), JSON.stringify(fails));
    assert.ok(!(await events(tw, 'upstream.start')).some((e) => e.data.upstream === 'boxed'), 'never started, not even unsandboxed');
    // Past the restart circuit, a start says exactly what is missing.
    const fresh = new UpstreamConnection(tw.warden.context.config.upstreams.mcp[0]!, { resolveSecret: async () => '', sandbox: testSandboxes(tw.warden.context.config.sandbox) });
    await assert.rejects(fresh.listTools(), (e: any) => e.code === 'SANDBOX_UNAVAILABLE' && e.details.missing === 'bwrap' && e.details.path === '/nonexistent/bin/bwrap');
    await fresh.close();
  });

  it('still runs the upstream whose config turns the sandbox off', async () => {
    const me = json(await client.callTool({ name: 'loose.whoami', arguments: {} }));
    assert.equal(typeof me.pid, 'number');
  });
});
