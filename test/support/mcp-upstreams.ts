import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpSessions } from '../../src/util/mcp-sessions.js';
import { isAlive } from '../../src/mcp-gateway/upstreams/child-reaper.js';
import { StdioUpstreamSchema, type StdioUpstream } from '../../src/mcp-gateway/upstreams/upstream-config.js';
import type { z } from 'zod';

/** The repository root, from `test/support/` or `dist/test/support/` alike. */
export const REPO_ROOT = (() => {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(`${join('dist', 'test')}`) ? join(here, '..', '..', '..') : join(here, '..', '..');
})();

/** A fixture server of `test/fixtures/mcp/`. */
export function fixture(file: string): string {
  return join(REPO_ROOT, 'test', 'fixtures', 'mcp', file);
}

/** The entry point of `@modelcontextprotocol/server-everything` (`node <it> stdio|streamableHttp`). */
export function everythingServer(): string {
  const pkg = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json');
  return join(dirname(pkg), 'dist', 'index.js');
}

/** A stdio upstream running `node <script> …args`, defaults applied by the schema. */
export function stdioUpstream(
  name: string,
  script: string,
  extra: Partial<Omit<z.input<typeof StdioUpstreamSchema>, 'transport' | 'name' | 'command'>> = {},
): StdioUpstream {
  const { args = [], ...rest } = extra;
  return StdioUpstreamSchema.parse({ transport: 'stdio', name, command: process.execPath, ...rest, args: [script, ...args] });
}


/** What the secret store holds in these tests. */
export const TEST_SECRETS: Readonly<Record<string, string>> = { 'upstream-token': 'sk-test-5ecret-value-1234' };

export async function resolveTestSecret(name: string): Promise<string> {
  const value = TEST_SECRETS[name];
  if (value === undefined) throw new Error(`no secret named ${name}`);
  return value;
}

/** Resolves when `pid` is gone, or rejects after `ms`. */
export async function waitForExit(pid: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > until) throw new Error(`process ${pid} still alive after ${ms} ms`);
    await sleep(20);
  }
}

export interface HttpMcpServer {
  readonly url: string;
  /** Headers of the latest request the server received. */
  lastHeaders(): IncomingHttpHeaders;
  /** Drops every open connection at once, as a crashing server would. */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * An in-process Streamable HTTP MCP server on 127.0.0.1:0, one `McpServer` per session (the
 * SDK's stateful pattern). `register` adds the tools to each.
 */
export async function startHttpMcpServer(register: (server: McpServer) => void, opts: { jsonResponse?: boolean } = {}): Promise<HttpMcpServer> {
  const sessions = new McpSessions(() => {
    const server = new McpServer({ name: 'http-fixture', version: '1.0.0' });
    register(server);
    return server;
  }, opts);
  let headers: IncomingHttpHeaders = {};
  const http: Server = createServer(async (req, res) => {
    headers = req.headers;
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/mcp') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no MCP endpoint here');
      return;
    }
    await sessions.handle(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    lastHeaders: () => headers,
    dropConnections: () => http.closeAllConnections(),
    close: async () => {
      await sessions.closeAll();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
