// An agent written with Warden's SDK, as `warden demo` runs it. It holds its own key pair and
// nothing else: no upstream credential, no long-lived token. Each step prints one line.
//
//   WARDEN_URL, WARDEN_AGENT_ID, WARDEN_AGENT_KEY (its private JWK file), DEMO_WORKSPACE
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WardenAgent, createDpopProof, generateAgentKey, loadAgentKey } from 'warden/sdk';

const env = process.env;
const say = (text) => process.stdout.write(`${String(text).split('\n').map((l) => `agent  │ ${l}`).join('\n')}\n`);
const step = (n, title) => process.stdout.write(`\n${n}. ${title}\n`);

const agent = new WardenAgent({ wardenUrl: env.WARDEN_URL, agentId: env.WARDEN_AGENT_ID, key: await loadAgentKey(env.WARDEN_AGENT_KEY) });

// A task: what it is for, and the few tools it needs. Its token lives minutes and is bound to
// this agent's key (DPoP).
const task = await agent.startTask({
  purpose: 'Tidy up the project notes',
  scope: ['everything.echo', 'everything.get-env', 'files.read_text_file', 'files.write_file', 'files.list_directory'],
});
say(`started task ${task.taskId} (scope: ${task.scope.join(', ')})`);

const mcp = new Client({ name: 'demo-agent', version: '1.0.0' });
await mcp.connect(task.mcpTransport());
say(`tools offered to this task: ${(await mcp.listTools()).tools.map((t) => t.name).join(', ')}`);

/** One tool call; Warden's refusals arrive as MCP errors carrying a stable code. */
async function call(name, args, show = (text) => text) {
  say(`→ ${name} ${JSON.stringify(args)}`);
  try {
    const result = await mcp.callTool({ name, arguments: args });
    const text = result.content.map((c) => c.text ?? `[${c.type}]`).join(' ').trim();
    const shown = show(text);
    say(`✓ ${shown.length > 300 ? `${shown.slice(0, 300)}…` : shown}`);
    return text;
  } catch (err) {
    say(`✗ refused: ${err.data?.code ?? err.message}${err.data?.details ? ` ${JSON.stringify(err.data.details)}` : ''}`);
    return null;
  }
}

step(1, 'An allowed call: low risk, in scope, no policy against it');
await call('everything.echo', { message: 'hello from the demo agent' });
await call('files.read_text_file', { path: `${env.DEMO_WORKSPACE}/notes.md` });

step(2, 'A denied call: a policy forbids writing .env files');
await call('files.write_file', { path: `${env.DEMO_WORKSPACE}/.env`, content: 'DEBUG=1' });

step(3, 'A call held for approval: writes are high risk; the call waits while a person decides');
await call('files.write_file', { path: `${env.DEMO_WORKSPACE}/summary.md`, content: '# Summary\nAll notes tidied.\n' });

step(4, 'A secret redacted: the upstream got DEMO_API_KEY from Warden and prints its environment');
// The server prints its whole environment; the line that matters here is DEMO_API_KEY.
const envText = await call('everything.get-env', {}, (text) => text.split('\n').find((l) => l.includes('DEMO_API_KEY'))?.trim() ?? text);
if (envText) say(envText.includes('[REDACTED') ? 'the value came back redacted: this agent never sees it' : 'NOT REDACTED');

step(5, 'A stolen token: someone copies the task token but not the agent key');
const token = await task.accessToken();
const thief = await generateAgentKey();
const url = `${env.WARDEN_URL}/mcp`;
const res = await fetch(url, {
  method: 'POST',
  headers: {
    authorization: `DPoP ${token}`,
    dpop: await createDpopProof(thief, { method: 'POST', url, accessToken: token }),
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'thief', version: '0' } } }),
});
say(`thief → POST /mcp with the stolen token: HTTP ${res.status} ${(await res.json()).error?.code}`);

await mcp.close();
await task.end();
say(`ended task ${task.taskId}: its tokens stop working now`);
process.stdout.write(`TASK ${task.taskId}\n`);
