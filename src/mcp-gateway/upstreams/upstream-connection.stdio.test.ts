import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { everythingServer, fixture, resolveTestSecret, stdioUpstream, TEST_SECRETS, waitForExit } from '../../../test/support/mcp-upstreams.js';
import { isAlive } from './child-reaper.js';
import { StdioUpstreamSchema } from './upstream-config.js';
import { UpstreamConnection } from './upstream-connection.js';
import { rejectsWith } from '../../../test/support/rejects-with.js';
import { testSandboxes } from '../../../test/support/sandbox.js';

const opened: UpstreamConnection[] = [];
function connect(...args: ConstructorParameters<typeof UpstreamConnection>): UpstreamConnection {
  const connection = new UpstreamConnection(...args);
  opened.push(connection);
  return connection;
}
after(() => Promise.all(opened.map((c) => c.close())));

const opts = { resolveSecret: resolveTestSecret, killGraceMs: 1_000, sandbox: testSandboxes() };
const everything = () => stdioUpstream('everything', everythingServer(), { args: ['stdio'] });
const text = (result: { content: unknown[] }): string => (result.content[0] as { text: string }).text;

describe('UpstreamConnection over stdio (server-everything)', () => {
  it('starts nothing before the first use', async () => {
    const connection = connect(everything(), opts);
    assert.equal(connection.status().state, 'idle');
    assert.equal(connection.status().pid, undefined);
    await connection.listTools();
    const status = connection.status();
    assert.equal(status.state, 'ready');
    assert.equal(typeof status.pid, 'number');
    assert.equal(isAlive(status.pid!), true);
    assert.equal(typeof status.startedAt, 'number');
  });

  it('lists the tools with their schemas and annotations', async () => {
    const connection = connect(everything(), opts);
    const { tools, issues } = await connection.listTools();
    const echo = tools.find((t) => t.name === 'echo');
    assert.ok(echo, 'echo is listed');
    assert.equal(echo.inputSchema.type, 'object');
    assert.equal(echo.annotations?.readOnlyHint, true);
    assert.ok(tools.some((t) => t.name === 'get-sum'));
    assert.deepEqual(issues, []);
  });

  it('calls a tool and returns its result', async () => {
    const connection = connect(everything(), opts);
    assert.equal(text(await connection.callTool('echo', { message: 'hi' })), 'Echo: hi');
    const sum = await connection.callTool('get-sum', { a: 2, b: 3 });
    assert.match(text(sum), /5/);
  });

  it('shares one start between concurrent first callers', async () => {
    const connection = connect(everything(), opts);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => connection.callTool('echo', { message: String(i) })));
    assert.deepEqual(results.map(text), ['0', '1', '2', '3', '4'].map((m) => `Echo: ${m}`));
    assert.equal(connection.status().restarts, 0);
  });

  it('kills the child on close, is idempotent, and fails later calls', async () => {
    const connection = connect(everything(), opts);
    await connection.listTools();
    const pid = connection.status().pid!;
    await Promise.all([connection.close(), connection.close()]);
    assert.equal(isAlive(pid), false);
    assert.equal(connection.status().state, 'closed');
    assert.equal(connection.status().pid, undefined);
    const err = await rejectsWith(connection.callTool('echo', { message: 'x' }), 'UPSTREAM_UNAVAILABLE');
    assert.equal(err.details?.reason, 'closed');
  });

  it('fails calls in flight when closed, without waiting for them', async () => {
    const connection = connect(stdioUpstream('hang', fixture('hang.mjs')), opts);
    await connection.listTools();
    const pid = connection.status().pid!;
    const call = rejectsWith(connection.callTool('hang', {}), 'UPSTREAM_UNAVAILABLE');
    await connection.close();
    const err = await call;
    assert.equal(err.details?.reason, 'closed');
    assert.equal(isAlive(pid), false);
  });
});

describe('UpstreamConnection children', () => {
  it('are killed when Warden exits without closing them', async () => {
    // A separate Node process plays Warden: it starts an upstream, reports the child's pid, and exits.
    const script = `
      const { UpstreamConnection } = await import(${JSON.stringify(new URL('./upstream-connection.js', import.meta.url).href)});
      const { stdioUpstream } = await import(${JSON.stringify(new URL('../../../test/support/mcp-upstreams.js', import.meta.url).href)});
      const { testSandboxes } = await import(${JSON.stringify(new URL('../../../test/support/sandbox.js', import.meta.url).href)});
      const c = new UpstreamConnection(stdioUpstream('stubborn', ${JSON.stringify(fixture('stubborn.mjs'))}), { resolveSecret: async () => '', sandbox: testSandboxes() });
      await c.listTools();
      console.log(c.status().pid);
      process.exit(0);
    `;
    const warden = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    warden.stdout.on('data', (chunk) => (out += String(chunk)));
    const [code] = await once(warden, 'exit');
    assert.equal(code, 0);
    const pid = Number(out.trim());
    assert.ok(Number.isInteger(pid) && pid > 0, `pid: ${out}`);
    await waitForExit(pid);
  });

  it('get SIGKILL on close when they ignore SIGTERM', async () => {
    const connection = connect(stdioUpstream('stubborn', fixture('stubborn.mjs')), { ...opts, killGraceMs: 300 });
    await connection.callTool('ping');
    const pid = connection.status().pid!;
    const start = performance.now();
    await connection.close();
    assert.ok(performance.now() - start < 10_000);
    assert.equal(isAlive(pid), false);
  });
});

describe('UpstreamConnection environment and secrets', () => {
  const upstream = (sandbox?: false) =>
    stdioUpstream('env', fixture('env-echo.mjs'), {
      env: { LITERAL: 'plain', SECRET_TOKEN: { secret: 'upstream-token' } },
      ...(sandbox === false ? { sandbox } : {}),
    });

  it("gives a sandboxed child only inherited and declared variables and the sandbox's own, never Warden's", async () => {
    process.env.WARDEN_MASTER_KEY = 'the-master-key-must-not-leak';
    try {
      const connection = connect(upstream(), opts);
      const env = JSON.parse(text(await connection.callTool('env'))) as Record<string, string>;
      const proxy = ['HTTPS_PROXY', 'HTTP_PROXY', 'NODE_OPTIONS', 'NODE_USE_ENV_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
      assert.deepEqual(Object.keys(env).sort(), ['HOME', ...proxy.slice(0, 5), 'LITERAL', 'PATH', 'PWD', 'SECRET_TOKEN', 'TMPDIR', ...proxy.slice(5)].sort());
      assert.equal(env.HOME, '/scratch');
      assert.equal(env.HTTP_PROXY, 'http://127.0.0.1:3128');
      assert.match(env.NODE_OPTIONS!, /^--import=file:\/\/\S+\/env-proxy-preload\.js$/, "only the fetch preload: nothing of Warden's own NODE_OPTIONS");
      assert.equal(env.PATH, process.env.PATH);
      assert.equal(env.SECRET_TOKEN, TEST_SECRETS['upstream-token']);
    } finally {
      delete process.env.WARDEN_MASTER_KEY;
    }
  });

  it("gives an unsandboxed child only inherited and declared variables, never Warden's own", async () => {
    process.env.WARDEN_MASTER_KEY = 'the-master-key-must-not-leak';
    try {
      const connection = connect(upstream(false), opts);
      const env = JSON.parse(text(await connection.callTool('env'))) as Record<string, string>;
      assert.deepEqual(Object.keys(env).sort(), ['LITERAL', 'PATH', 'SECRET_TOKEN']);
      assert.equal(env.PATH, process.env.PATH);
      assert.equal(env.LITERAL, 'plain');
      assert.equal(env.SECRET_TOKEN, TEST_SECRETS['upstream-token']);
    } finally {
      delete process.env.WARDEN_MASTER_KEY;
    }
  });

  it('also keeps out the variables the SDK inherits by default (HOME, USER, …)', async () => {
    for (const sandbox of [undefined, false as const]) {
      const connection = connect(upstream(sandbox), { ...opts, env: { PATH: '/usr/bin:/bin', HOME: '/home/warden', USER: 'warden' } });
      const env = JSON.parse(text(await connection.callTool('env'))) as Record<string, string>;
      assert.equal(env.PATH, '/usr/bin:/bin');
      assert.equal(env.HOME, sandbox === false ? undefined : '/scratch');
      assert.equal(env.USER, undefined);
    }
  });

  it('passes through exactly the variables of inheritEnv', async () => {
    const config = stdioUpstream('env', fixture('env-echo.mjs'), { inheritEnv: ['PATH', 'LANG'], sandbox: false });
    const connection = connect(config, { ...opts, env: { PATH: process.env.PATH, LANG: 'C.UTF-8', TERM: 'xterm' } });
    const env = JSON.parse(text(await connection.callTool('env'))) as Record<string, string>;
    assert.deepEqual(Object.keys(env).sort(), ['LANG', 'PATH']);
    const sandboxed = connect({ ...config, sandbox: StdioUpstreamSchema.shape.sandbox.parse(undefined) }, { ...opts, env: { PATH: process.env.PATH, LANG: 'C.UTF-8', TERM: 'xterm' } });
    const inside = JSON.parse(text(await sandboxed.callTool('env'))) as Record<string, string>;
    assert.equal(inside.LANG, 'C.UTF-8');
    assert.equal(inside.TERM, undefined);
  });

  it('reports the injected values and redacts them from the stderr tail', async () => {
    const connection = connect(upstream(), opts);
    assert.deepEqual(connection.injectedValues(), []);
    await connection.listTools();
    assert.deepEqual(connection.injectedValues(), [TEST_SECRETS['upstream-token']]);
    // The fixture prints the token on stderr at start; wait for it to arrive.
    for (let i = 0; i < 100 && !connection.stderrTail().includes('token is'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(connection.stderrTail(), /token is \[REDACTED\]/);
    assert.ok(!connection.stderrTail().includes(TEST_SECRETS['upstream-token']!));
  });

  it('fails the start with the secret name, never a value, when a secret is missing', async () => {
    const config = stdioUpstream('env', fixture('env-echo.mjs'), { env: { X: { secret: 'missing-secret' } } });
    const connection = connect(config, opts);
    const err = await rejectsWith(connection.listTools(), 'UPSTREAM_UNAVAILABLE');
    assert.deepEqual(err.details, { upstream: 'env', reason: 'secret-unavailable', secret: 'missing-secret' });
    assert.equal(connection.status().pid, undefined);
  });
});

describe('UpstreamConnection protocol edges', () => {
  it('skips lines on stdout that are not JSON-RPC', async () => {
    const connection = connect(stdioUpstream('noisy', fixture('noisy-stdout.mjs')), opts);
    assert.equal(text(await connection.callTool('echo', { message: 'through the noise' })), 'through the noise');
  });

  it('surfaces tools/list_changed to onToolsChanged and lists the new tool', async () => {
    const connection = connect(stdioUpstream('changing', fixture('changing-tools.mjs')), opts);
    const before = await connection.listTools();
    assert.deepEqual(before.tools.map((t) => t.name), ['add_tool']);
    const changed = new Promise<void>((resolve) => connection.onToolsChanged(resolve));
    await connection.callTool('add_tool', { name: 'fresh_tool' });
    await changed;
    const afterChange = await connection.listTools();
    assert.deepEqual(afterChange.tools.map((t) => t.name).sort(), ['add_tool', 'fresh_tool']);
  });

  it('stops hearing of changes after unsubscribing', async () => {
    const connection = connect(stdioUpstream('changing', fixture('changing-tools.mjs')), opts);
    let heard = 0;
    const off = connection.onToolsChanged(() => heard++);
    const heardAgain = new Promise<void>((resolve) => connection.onToolsChanged(resolve));
    off();
    await connection.callTool('add_tool', { name: 'another' });
    await heardAgain;
    assert.equal(heard, 0);
  });
});
