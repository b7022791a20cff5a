import type { Command } from 'commander';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { CliGlobals } from '../admin-client.js';
import { WardenAgent } from '../../sdk/agent.js';
import { loadAgentKey } from '../../sdk/keys.js';

interface ConnectOptions {
  agent: string;
  key: string;
  purpose: string;
  scope: string;
  lifetime?: string;
  ticket?: string;
  onBehalfOfEnv?: string;
}

/**
 * `warden mcp connect`: a local stdio MCP server that is one agent's task on Warden's gateway.
 * MCP clients that speak only stdio or cannot sign DPoP proofs (desktop apps, the MCP Inspector)
 * start it as their server; it holds the agent's private key, starts the task, and relays every
 * JSON-RPC message to `/mcp` over Streamable HTTP with a fresh proof per request. The task ends
 * when the client closes stdin. Nothing but JSON-RPC is written to stdout.
 */
export function mcpCommands(program: Command, g: CliGlobals): void {
  const mcp = program.command('mcp').description("the MCP gateway from an agent's side");
  mcp
    .command('connect')
    .description('relay a stdio MCP client to the gateway as one task of an agent (for clients that cannot do DPoP)')
    // Every option can come from the environment too: MCP client configs (`mcpServers` in
    // JSON) usually pass settings that way.
    .requiredOption('--agent <id>', 'the agent (agt_…) [WARDEN_AGENT_ID]', process.env.WARDEN_AGENT_ID)
    .requiredOption('--key <file>', "the agent's private key, a JWK file written by `warden agent add` [WARDEN_AGENT_KEY]", process.env.WARDEN_AGENT_KEY)
    .requiredOption('--purpose <text>', 'what the task is for [WARDEN_TASK_PURPOSE]', process.env.WARDEN_TASK_PURPOSE)
    .requiredOption('--scope <capabilities>', 'the capabilities the task needs, space- or comma-separated, e.g. "everything.*" [WARDEN_TASK_SCOPE]', process.env.WARDEN_TASK_SCOPE)
    .option('--lifetime <seconds>', 'task lifetime')
    .option('--ticket <ref>', 'ticket reference')
    .option('--on-behalf-of-env <name>', "environment variable holding the API key of the person the task acts for")
    .action(async (o: ConnectOptions) => {
      const agent = new WardenAgent({ wardenUrl: g.serverUrl(), agentId: o.agent, key: await loadAgentKey(o.key) });
      const subject = o.onBehalfOfEnv ? process.env[o.onBehalfOfEnv] : undefined;
      if (o.onBehalfOfEnv && !subject) throw new Error(`${o.onBehalfOfEnv} is not set`);
      const session = await agent.startTask({
        purpose: o.purpose,
        scope: o.scope.split(/[\s,]+/).filter(Boolean),
        ...(o.lifetime ? { lifetimeSec: Number(o.lifetime) } : {}),
        ...(o.ticket ? { ticket: o.ticket } : {}),
        ...(subject ? { onBehalfOf: { subjectToken: subject, subjectTokenType: 'api-key' as const } } : {}),
      });
      process.stderr.write(`warden: task ${session.taskId} started for ${o.agent}\n`);
      const upstream = session.mcpTransport();
      const local = new StdioServerTransport();
      let ending = false;
      const end = async (code: number): Promise<void> => {
        if (ending) return;
        ending = true;
        await session.end().catch(() => undefined);
        await upstream.close().catch(() => undefined);
        process.stderr.write(`warden: task ${session.taskId} ended\n`);
        process.exit(code);
      };
      local.onmessage = (m: JSONRPCMessage) => {
        upstream.send(m).catch((err: unknown) => {
          process.stderr.write(`warden: relay to the gateway failed: ${err instanceof Error ? err.message : 'error'}\n`);
          // A request that could not be sent still gets an answer, so the client does not hang.
          if ('id' in m && 'method' in m) void local.send({ jsonrpc: '2.0', id: m.id, error: { code: -32603, message: 'Warden gateway unreachable' } });
        });
      };
      upstream.onmessage = (m: JSONRPCMessage) => void local.send(m);
      upstream.onerror = (err: Error) => process.stderr.write(`warden: ${err.message}\n`);
      local.onclose = () => void end(0);
      process.stdin.on('end', () => void end(0));
      process.on('SIGINT', () => void end(130));
      process.on('SIGTERM', () => void end(143));
      await upstream.start();
      await local.start();
    });
}
