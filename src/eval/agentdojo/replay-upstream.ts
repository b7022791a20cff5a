import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { TOOL_LIMITS } from '../../mcp-gateway/upstreams/tool-definition.js';
import { McpSessions } from '../../util/mcp-sessions.js';
import type { ReplayScript } from './replay-script.js';

/** The replay's MCP servers, one per suite, on one loopback HTTP listener. */
export interface ReplayUpstream {
  /** The Streamable HTTP endpoint of `suite`'s server. */
  url(suite: string): string;
  close(): Promise<void>;
}

/**
 * The tool definitions a suite's server lists. The recorded runs carry no schemas, so each
 * input schema is the permissive `{ type: object }`: arguments reach Warden (and its argument
 * provenance) whole, and Cedar sees them as an empty record. A name MCP does not allow (a model
 * that called `<empty-function-name>`) is not listed: calling it fails in Warden, as it would
 * have against a real server.
 */
export function replayTools(names: Iterable<string>): Tool[] {
  return [...new Set(names)]
    .filter((n) => TOOL_LIMITS.name.test(n))
    .sort()
    .map((name) => ({ name, description: `${name} (replayed from recorded runs)`, inputSchema: { type: 'object', additionalProperties: true } }));
}

function suiteServer(suite: string, tools: Tool[], script: ReplayScript): Server {
  const server = new Server({ name: `agentdojo-replay-${suite}`, version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (req): Promise<CallToolResult> => {
    const answer = script.answer(suite, req.params.name);
    // A result Warden will pass on: the runner learns of the mismatch from the script, and
    // fails the step there.
    if (answer.kind === 'unexpected') return { isError: true, content: [{ type: 'text', text: `replay: ${answer.reason}` }] };
    return { content: [{ type: 'text', text: answer.text }] };
  });
  return server;
}

/**
 * Starts the replay upstream: a real MCP server per suite (the official SDK, Streamable HTTP,
 * stateful sessions) at `http://127.0.0.1:<port>/<suite>/mcp`, listing `toolsBySuite` and
 * answering each `tools/call` with the recorded result the script holds for the current step.
 * Warden reaches it like any HTTP MCP upstream: the egress SSRF guard governs the HTTP proxy
 * (`/proxy/…`), not MCP upstreams, which an admin declares by URL, loopback included.
 */
export async function startReplayUpstream(toolsBySuite: ReadonlyMap<string, readonly string[]>, script: ReplayScript): Promise<ReplayUpstream> {
  const tools = new Map([...toolsBySuite].map(([suite, names]) => [suite, replayTools(names)]));
  const sessions = new McpSessions((suite) => suiteServer(suite, tools.get(suite)!, script));
  const http: HttpServer = createServer(async (req, res) => {
    const match = /^\/([a-z0-9][a-z0-9_-]*)\/mcp$/.exec(new URL(req.url ?? '/', 'http://replay').pathname);
    const suite = match?.[1];
    if (suite === undefined || !tools.has(suite)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such suite');
      return;
    }
    await sessions.handle(req, res, suite);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  return {
    url: (suite) => `http://127.0.0.1:${port}/${suite}/mcp`,
    async close() {
      await sessions.closeAll();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
