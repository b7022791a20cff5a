import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

/**
 * The SDK's stateful Streamable HTTP pattern for a small MCP server of our own (the eval's replay
 * upstream, test fixtures): a request without a session starts one with a fresh server from
 * `create(scope)`; a request naming a session is routed to it, or answered 404 when it is
 * unknown. `scope` keeps several endpoints of one listener apart (a suite, a path).
 */
export class McpSessions {
  private readonly sessions = new Map<string, StreamableHTTPServerTransport>();

  constructor(
    private readonly create: (scope: string) => Server | McpServer,
    /** Answer POSTs with one JSON body instead of an SSE stream (the SDK's `enableJsonResponse`). */
    private readonly opts: { jsonResponse?: boolean } = {},
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, scope = ''): Promise<void> {
    try {
      const id = req.headers['mcp-session-id'];
      let transport = typeof id === 'string' ? this.sessions.get(`${scope}/${id}`) : undefined;
      if (!transport) {
        if (id !== undefined) {
          res.writeHead(404).end();
          return;
        }
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse: this.opts.jsonResponse ?? false,
          onsessioninitialized: (sid) => void this.sessions.set(`${scope}/${sid}`, created),
        });
        created.onclose = () => {
          if (created.sessionId) this.sessions.delete(`${scope}/${created.sessionId}`);
        };
        await this.create(scope).connect(created);
        transport = created;
      }
      await transport.handleRequest(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
    }
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.sessions.values()].map((t) => t.close()));
  }
}
