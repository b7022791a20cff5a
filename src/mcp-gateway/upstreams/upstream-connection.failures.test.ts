import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { fixture, resolveTestSecret, stdioUpstream, TEST_SECRETS, waitForExit } from '../../../test/support/mcp-upstreams.js';
import { ManualClock } from '../../util/clock.js';
import { isAlive } from './child-reaper.js';
import { MAX_TOOLS, UpstreamConnection } from './upstream-connection.js';
import { FRAMING_SLACK_BYTES } from './upstream-transport.js';
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
const text = (result: { content: unknown[] }): string => (result.content[0] as { text: string }).text;

/** Generous: only proves that nothing waits for the (much longer) default bounds. */
const DOES_NOT_HANG_MS = 10_000;

async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await promise;
  return { value, ms: performance.now() - start };
}

describe('an upstream that crashes', () => {
  it('fails the call in flight with UPSTREAM_UNAVAILABLE at once, and restarts on the next call', async () => {
    const connection = connect(stdioUpstream('crash', fixture('crash.mjs'), { callTimeoutMs: 60_000 }), opts);
    // The fixture answers with its own pid: inside the sandbox's PID namespace, not the pid Warden holds.
    const first = text(await connection.callTool('echo', { message: 'a' }));
    const firstPid = connection.status().pid!;
    assert.match(first, /^\d+:a$/);

    const { value: err, ms } = await timed(rejectsWith(connection.callTool('crash'), 'UPSTREAM_UNAVAILABLE'));
    assert.ok(ms < DOES_NOT_HANG_MS, `took ${ms} ms`);
    assert.equal(err.details?.reason, 'exited');
    await waitForExit(firstPid);
    assert.equal(connection.status().lastError, 'UPSTREAM_UNAVAILABLE');

    const again = text(await connection.callTool('echo', { message: 'b' }));
    const secondPid = connection.status().pid!;
    assert.notEqual(secondPid, firstPid);
    assert.match(again, /^\d+:b$/);
    assert.equal(connection.status().restarts, 1);
  });

  it('keeps what the child wrote to stderr before dying', async () => {
    const connection = connect(stdioUpstream('crash', fixture('crash.mjs')), opts);
    await rejectsWith(connection.callTool('crash'), 'UPSTREAM_UNAVAILABLE');
    for (let i = 0; i < 100 && !connection.stderrTail().includes('exiting'); i++) await sleep(20);
    assert.match(connection.stderrTail(), /crash fixture \d+ exiting on purpose/);
  });

  it('backs off after repeated crashes, failing fast with retryAfterMs, then restarts', async () => {
    const clock = new ManualClock();
    const connection = connect(stdioUpstream('crash', fixture('crash.mjs')), { ...opts, clock, backoff: { baseMs: 500, maxMs: 30_000 } });
    await rejectsWith(connection.callTool('crash'), 'UPSTREAM_UNAVAILABLE'); // 1st failure: restart at once
    await rejectsWith(connection.callTool('crash'), 'UPSTREAM_UNAVAILABLE'); // 2nd: 500 ms circuit

    assert.equal(connection.status().state, 'backoff');
    const fast = await rejectsWith(connection.callTool('echo', { message: 'x' }), 'UPSTREAM_UNAVAILABLE');
    assert.deepEqual(fast.details, { upstream: 'crash', reason: 'backoff', retryAfterMs: 500, lastError: 'UPSTREAM_UNAVAILABLE' });
    assert.equal(fast.spec.retryable, true);

    clock.advance(500);
    assert.equal(connection.status().state, 'idle');
    await rejectsWith(connection.callTool('crash'), 'UPSTREAM_UNAVAILABLE'); // 3rd: 1 s
    const longer = await rejectsWith(connection.listTools(), 'UPSTREAM_UNAVAILABLE');
    assert.equal(longer.details?.retryAfterMs, 1_000);

    clock.advance(1_000);
    assert.match(text(await connection.callTool('echo', { message: 'ok' })), /:ok$/);
    // A healthy answer closes the circuit: the next crash restarts at once again.
    await rejectsWith(connection.callTool('crash'), 'UPSTREAM_UNAVAILABLE');
    assert.match(text(await connection.callTool('echo', { message: 'ok' })), /:ok$/);
  });
});

describe('an upstream that hangs', () => {
  it('times a call out with UPSTREAM_TIMEOUT and keeps the session', async () => {
    const connection = connect(stdioUpstream('hang', fixture('hang.mjs')), opts);
    await connection.listTools();
    const pid = connection.status().pid;
    const { value: err, ms } = await timed(rejectsWith(connection.callTool('hang', {}, { timeoutMs: 2_000 }), 'UPSTREAM_TIMEOUT'));
    assert.ok(ms < DOES_NOT_HANG_MS, `took ${ms} ms`);
    assert.deepEqual(err.details, { upstream: 'hang', timeoutMs: 2_000 });
    assert.equal(err.spec.retryable, true);
    assert.equal(text(await connection.callTool('echo', { message: 'still here' })), 'still here');
    assert.equal(connection.status().pid, pid);
  });

  it("uses the upstream's callTimeoutMs by default", async () => {
    const connection = connect(stdioUpstream('hang', fixture('hang.mjs'), { callTimeoutMs: 500 }), opts);
    const { ms } = await timed(rejectsWith(connection.callTool('hang'), 'UPSTREAM_TIMEOUT'));
    assert.ok(ms < DOES_NOT_HANG_MS, `took ${ms} ms`);
  });

  it("rejects with the caller's abort reason when the caller aborts", async () => {
    const connection = connect(stdioUpstream('hang', fixture('hang.mjs')), opts);
    await connection.listTools();
    const controller = new AbortController();
    const call = connection.callTool('hang', {}, { signal: controller.signal });
    const reason = new Error('agent went away');
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(call, (err) => err === reason);
    assert.equal(connection.status().state, 'ready');
  });

  it('kills a child that does not finish its handshake within startTimeoutMs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-mute-'));
    try {
      const pidFile = join(dir, 'pid');
      // Unsandboxed, so the pid the fixture writes is one this process can watch.
      const connection = connect(stdioUpstream('mute', fixture('mute.mjs'), { startTimeoutMs: 500, env: { PID_FILE: pidFile }, sandbox: false }), opts);
      const { value: err, ms } = await timed(rejectsWith(connection.listTools(), 'UPSTREAM_UNAVAILABLE'));
      assert.ok(ms < DOES_NOT_HANG_MS, `took ${ms} ms`);
      assert.equal(err.details?.reason, 'start-timeout');
      const pid = Number(await readFile(pidFile, 'utf8'));
      await waitForExit(pid);
      assert.equal(connection.status().state, 'idle');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('kills a sandboxed server that does not finish its handshake within startTimeoutMs, sandbox and all', async () => {
    const connection = connect(stdioUpstream('mute', fixture('mute.mjs'), { startTimeoutMs: 500 }), opts);
    const { value: err, ms } = await timed(rejectsWith(connection.listTools(), 'UPSTREAM_UNAVAILABLE'));
    assert.ok(ms < DOES_NOT_HANG_MS, `took ${ms} ms`);
    assert.equal(err.details?.reason, 'start-timeout');
    assert.equal(connection.status().state, 'idle');
  });

  it('fails UPSTREAM_UNAVAILABLE spawn-failed when the command does not exist', async () => {
    const config = stdioUpstream('missing', 'x');
    for (const sandbox of [undefined, false as const]) {
      const connection = connect({ ...config, command: '/nonexistent/warden-test-command', ...(sandbox === false ? { sandbox } : {}) }, opts);
      const err = await rejectsWith(connection.listTools(), 'UPSTREAM_UNAVAILABLE');
      assert.equal(err.details?.reason, 'spawn-failed');
    }
  });
});

describe('an upstream that answers too much', () => {
  const limit = 64 * 1024;
  const upstream = () => stdioUpstream('huge', fixture('huge.mjs'), { maxResultBytes: limit });

  it('refuses a result over maxResultBytes with UPSTREAM_RESPONSE_TOO_LARGE and keeps the session', async () => {
    const connection = connect(upstream(), opts);
    assert.equal(text(await connection.callTool('huge', { bytes: limit / 2 })).length, limit / 2);
    const pid = connection.status().pid;
    const err = await rejectsWith(connection.callTool('huge', { bytes: limit * 2 }), 'UPSTREAM_RESPONSE_TOO_LARGE');
    assert.equal(err.details?.limitBytes, limit);
    assert.equal(err.spec.retryable, false);
    assert.equal(text(await connection.callTool('echo', { message: 'fine' })), 'fine');
    assert.equal(connection.status().pid, pid);
  });

  it('refuses a message too large to buffer, resets the connection, and recovers', async () => {
    const connection = connect(upstream(), opts);
    await connection.listTools();
    const pid = connection.status().pid!;
    const err = await rejectsWith(connection.callTool('huge', { bytes: limit + FRAMING_SLACK_BYTES + 1024 }), 'UPSTREAM_RESPONSE_TOO_LARGE');
    assert.equal(err.details?.limitBytes, limit);
    await waitForExit(pid);
    assert.equal(text(await connection.callTool('echo', { message: 'back' })), 'back');
  });
});

describe('a hostile upstream (hand-written JSON-RPC)', () => {
  const raw = (mode?: string) =>
    stdioUpstream('raw', fixture('raw-server.mjs'), { args: mode ? [mode] : [], env: { SECRET_TOKEN: { secret: 'upstream-token' } } });

  it('skips malformed tool definitions and truncates long texts, saying why', async () => {
    const connection = connect(raw(), opts);
    const { tools, issues } = await connection.listTools();
    assert.deepEqual(tools.map((t) => t.name), ['ok', 'long_description', 'bad_annotations', 'bad_output', 'second_page']);
    const ok = tools[0]!;
    assert.deepEqual(ok.annotations, { readOnlyHint: true });
    assert.equal(ok.description, 'A fine tool');
    assert.equal(tools[1]!.description!.length, 2000);
    assert.equal(tools[2]!.annotations, undefined);
    assert.equal(tools[3]!.outputSchema, undefined);
    assert.deepEqual(
      issues.map((i) => `${i.index}:${i.action}:${i.field ?? ''}:${i.reason}`),
      [
        '1:skipped::not-an-object',
        '2:skipped::invalid-name',
        '3:truncated:description:too-long',
        '4:skipped::invalid-input-schema',
        '5:skipped::invalid-input-schema',
        '6:skipped::duplicate-name',
        '7:dropped:annotations:invalid-annotations',
        '8:dropped:outputSchema:invalid-output-schema',
        '9:skipped::schema-too-large',
        '10:skipped::invalid-name',
        '12:skipped::cursor-loop',
      ],
    );
    // Invalid names are upstream text and are not echoed.
    assert.equal(issues[1]!.name, undefined);
  });

  it('stops at MAX_TOOLS', async () => {
    const connection = connect(raw('many'), opts);
    const { tools, issues } = await connection.listTools();
    assert.equal(tools.length, MAX_TOOLS);
    assert.deepEqual(issues, [{ index: MAX_TOOLS, action: 'skipped', reason: 'too-many-tools' }]);
  });

  it('fails a listing whose tools are not an array with UPSTREAM_ERROR', async () => {
    const connection = connect(raw('not-an-array'), opts);
    const err = await rejectsWith(connection.listTools(), 'UPSTREAM_ERROR');
    assert.equal(err.details?.reason, 'invalid-result');
  });

  it('passes a JSON-RPC error on with its code only, never its message', async () => {
    const connection = connect(raw(), opts);
    const err = await rejectsWith(connection.callTool('rpc_error'), 'UPSTREAM_ERROR');
    assert.deepEqual(err.details, { upstream: 'raw', rpcCode: -32050 });
    const secret = TEST_SECRETS['upstream-token']!;
    assert.ok(!err.message.includes(secret));
    assert.ok(!JSON.stringify(err.details).includes(secret));
    assert.equal(err.cause, undefined);
    assert.equal(connection.status().state, 'ready');
  });

  it('refuses a result of the wrong shape with UPSTREAM_ERROR', async () => {
    const connection = connect(raw(), opts);
    const err = await rejectsWith(connection.callTool('bad_shape'), 'UPSTREAM_ERROR');
    assert.deepEqual(err.details, { upstream: 'raw', reason: 'invalid-result' });
  });

  it('leaves no child alive after close', async () => {
    const connection = connect(raw(), opts);
    await connection.listTools();
    const pid = connection.status().pid!;
    await connection.close();
    assert.equal(isAlive(pid), false);
  });
});
