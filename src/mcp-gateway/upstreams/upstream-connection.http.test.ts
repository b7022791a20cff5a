import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { everythingServer, resolveTestSecret, startHttpMcpServer, TEST_SECRETS, waitForExit, type HttpMcpServer } from '../../../test/support/mcp-upstreams.js';
import { HttpUpstreamSchema, type HttpUpstream } from './upstream-config.js';
import { UpstreamConnection } from './upstream-connection.js';
import { FRAMING_SLACK_BYTES } from './upstream-transport.js';
import { rejectsWith } from '../../../test/support/rejects-with.js';

const opened: UpstreamConnection[] = [];
function connect(...args: ConstructorParameters<typeof UpstreamConnection>): UpstreamConnection {
  const connection = new UpstreamConnection(...args);
  opened.push(connection);
  return connection;
}

const opts = { resolveSecret: resolveTestSecret, killGraceMs: 1_000 };
const text = (result: { content: unknown[] }): string => (result.content[0] as { text: string }).text;
const DOES_NOT_HANG_MS = 10_000;
const LIMIT = 64 * 1024;

function tools(server: McpServer): void {
  server.registerTool('echo', { inputSchema: { message: z.string() } }, async ({ message }) => ({
    content: [{ type: 'text', text: message }],
  }));
  server.registerTool('whoami', { inputSchema: {} }, async (_args, extra) => ({
    content: [{ type: 'text', text: JSON.stringify(extra.requestInfo?.headers ?? {}) }],
  }));
  server.registerTool('hang', { inputSchema: {} }, () => new Promise(() => {}));
  server.registerTool('huge', { inputSchema: { bytes: z.number().int() } }, async ({ bytes }) => ({
    content: [{ type: 'text', text: 'x'.repeat(bytes) }],
  }));
  server.registerTool('add_tool', { inputSchema: { name: z.string() } }, async ({ name }) => {
    server.registerTool(name, { inputSchema: {} }, async () => ({ content: [{ type: 'text', text: name }] }));
    return { content: [{ type: 'text', text: 'added' }] };
  });
}

let server: HttpMcpServer;

const upstream = (extra: Partial<z.input<typeof HttpUpstreamSchema>> = {}): HttpUpstream =>
  HttpUpstreamSchema.parse({
    transport: 'http',
    name: 'remote',
    url: server.url,
    maxResultBytes: LIMIT,
    headers: { Authorization: { secret: 'upstream-token', format: 'Bearer {value}' }, 'X-Tenant': 'acme' },
    ...extra,
  });

// Servers answer a POST with an SSE stream (the SDK's default) or with one JSON body; Warden reads
// the two on different paths (guarded-fetch.ts), so every case runs against both.
for (const jsonResponse of [false, true]) describe(`UpstreamConnection over Streamable HTTP (${jsonResponse ? 'JSON' : 'SSE'} answers)`, () => {
  before(async () => {
    server = await startHttpMcpServer(tools, { jsonResponse });
  });
  after(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
    await server.close();
  });

  it('connects lazily and calls tools with the injected headers', async () => {
    const connection = connect(upstream(), opts);
    assert.deepEqual(connection.status(), { name: 'remote', transport: 'http', sandboxed: false, state: 'idle', restarts: 0 });
    const { tools: listed } = await connection.listTools();
    assert.deepEqual(listed.map((t) => t.name).sort(), ['add_tool', 'echo', 'hang', 'huge', 'whoami']);
    const headers = JSON.parse(text(await connection.callTool('whoami'))) as Record<string, string>;
    assert.equal(headers.authorization, `Bearer ${TEST_SECRETS['upstream-token']}`);
    assert.equal(headers['x-tenant'], 'acme');
    assert.deepEqual(connection.injectedValues(), [TEST_SECRETS['upstream-token']]);
    const status = connection.status();
    assert.equal(status.state, 'ready');
    assert.equal(status.pid, undefined);
  });

  it('times out a hanging call and keeps the session', async () => {
    const connection = connect(upstream(), opts);
    const start = performance.now();
    await rejectsWith(connection.callTool('hang', {}, { timeoutMs: 1_000 }), 'UPSTREAM_TIMEOUT');
    assert.ok(performance.now() - start < DOES_NOT_HANG_MS);
    assert.equal(text(await connection.callTool('echo', { message: 'after' })), 'after');
    assert.equal(connection.status().restarts, 0);
  });

  it('fails the call in flight at once when the connection breaks, then starts a new session', async () => {
    const connection = connect(upstream({ callTimeoutMs: 60_000 }), opts);
    await connection.listTools();
    const call = rejectsWith(connection.callTool('hang'), 'UPSTREAM_UNAVAILABLE');
    await new Promise((r) => setTimeout(r, 100));
    const start = performance.now();
    server.dropConnections();
    const err = await call;
    assert.ok(performance.now() - start < DOES_NOT_HANG_MS);
    assert.equal(err.details?.reason, 'transport-error');
    assert.equal(text(await connection.callTool('echo', { message: 'again' })), 'again');
    assert.equal(connection.status().restarts, 1);
  });

  it('refuses a result over maxResultBytes, and a body over the framing bound', async () => {
    const connection = connect(upstream(), opts);
    await rejectsWith(connection.callTool('huge', { bytes: LIMIT * 2 }), 'UPSTREAM_RESPONSE_TOO_LARGE');
    assert.equal(connection.status().restarts, 0);
    const err = await rejectsWith(connection.callTool('huge', { bytes: LIMIT + FRAMING_SLACK_BYTES }), 'UPSTREAM_RESPONSE_TOO_LARGE');
    assert.equal(err.details?.limitBytes, LIMIT);
    assert.equal(text(await connection.callTool('echo', { message: 'recovered' })), 'recovered');
  });

  it('hears tools/list_changed on the notification stream', async () => {
    const connection = connect(upstream(), opts);
    await connection.listTools();
    const changed = new Promise<void>((resolve) => connection.onToolsChanged(resolve));
    await connection.callTool('add_tool', { name: 'late_tool' });
    await changed;
    assert.ok((await connection.listTools()).tools.some((t) => t.name === 'late_tool'));
  });

  it('fails fast with UPSTREAM_UNAVAILABLE when nothing listens', async () => {
    const port = await freePort();
    const connection = connect(upstream({ url: `http://127.0.0.1:${port}/mcp` }), opts);
    const err = await rejectsWith(connection.listTools(), 'UPSTREAM_UNAVAILABLE');
    assert.equal(err.details?.reason, 'start-failed');
  });

  it('names the HTTP status an upstream refused the handshake with, never its body', async () => {
    const connection = connect(upstream({ url: server.url.replace('/mcp', '/other') }), opts);
    const err = await rejectsWith(connection.listTools(), 'UPSTREAM_UNAVAILABLE');
    assert.deepEqual(err.details, { upstream: 'remote', reason: 'start-failed', httpStatus: 404 });
  });

  it('closes idempotently and fails later calls', async () => {
    const connection = connect(upstream(), opts);
    await connection.listTools();
    await Promise.all([connection.close(), connection.close()]);
    assert.equal(connection.status().state, 'closed');
    await rejectsWith(connection.callTool('echo', { message: 'x' }), 'UPSTREAM_UNAVAILABLE');
  });
});

describe('UpstreamConnection over Streamable HTTP (server-everything)', () => {
  it('lists and calls the tools of the reference server', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [everythingServer(), 'streamableHttp'], {
      env: { PATH: process.env.PATH, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await waitForOutput(child.stderr!, /listening on port/);
      const connection = connect(upstream({ name: 'everything', url: `http://127.0.0.1:${port}/mcp`, maxResultBytes: 4 * 1024 * 1024 }), opts);
      const { tools: listed } = await connection.listTools();
      assert.ok(listed.some((t) => t.name === 'echo'));
      assert.equal(text(await connection.callTool('echo', { message: 'over http' })), 'Echo: over http');
      await connection.close();
    } finally {
      child.kill('SIGKILL');
      if (child.pid !== undefined) await waitForExit(child.pid);
    }
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((r) => probe.close(r));
  return port;
}

/** Resolves once `stream` has printed `pattern`; keeps draining it afterwards so the child never blocks. */
function waitForOutput(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in: ${seen}`)), DOES_NOT_HANG_MS);
    stream.on('data', (chunk) => {
      if (seen.length < 64 * 1024) seen += String(chunk);
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
    stream.once('end', () => reject(new Error(`stream ended without ${pattern}: ${seen}`)));
  });
}
