import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/**
 * The bench's upstream, run as its own process so it does not share an event loop with the
 * Warden it is measured through: an MCP server (Streamable HTTP, stateless, JSON responses)
 * with one `echo` tool at `/mcp`, and a plain JSON origin at `/data`. Prints its port.
 */
const body = JSON.stringify({ items: Array.from({ length: 8 }, (_, i) => ({ id: i, name: `item ${i}` })) });

function mcpServer(): McpServer {
  const s = new McpServer({ name: 'bench-upstream', version: '1.0.0' });
  s.registerTool('echo', { description: 'Echoes its message.', inputSchema: { message: z.string() } }, async ({ message }) => ({
    content: [{ type: 'text', text: message }],
  }));
  return s;
}

const server = createServer((req, res) => {
  if (req.url?.startsWith('/data')) {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    return;
  }
  if (req.url !== '/mcp') {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      // The SDK's stateless pattern: a server and transport per request.
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      const s = mcpServer();
      res.on('close', () => {
        void transport.close();
        void s.close();
      });
      await s.connect(transport);
      const text = Buffer.concat(chunks).toString('utf8');
      await transport.handleRequest(req, res, text ? JSON.parse(text) : undefined);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
