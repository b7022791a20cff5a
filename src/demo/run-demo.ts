import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { formatStory } from '../audit/replay.js';
import { pino } from 'pino';
import { generateAgentKey, saveAgentKey } from '../sdk/keys.js';
import { Warden } from '../warden.js';
import { handToSandboxUser } from '../sandbox/sandbox-host.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'warden.js');
const AGENT = join(ROOT, 'examples', 'demo-agent.mjs');
const run = promisify(execFile);

/** The entry point of an npm MCP server package (`dist/index.js`). */
function serverEntry(pkg: string): string {
  return join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), 'dist', 'index.js');
}

/** The demo's warden.yaml: two real MCP servers from npm, risk tiers, a secret to inject. */
export function demoConfig(workspace: string): string {
  const node = JSON.stringify(process.execPath);
  return `# warden demo: two MCP servers from npm behind Warden's gateway.
approvals:
  waitSec: 60            # a held call waits this long for people
upstreams:
  mcp:
    - name: everything   # @modelcontextprotocol/server-everything
      transport: stdio
      command: ${node}
      args: [${JSON.stringify(serverEntry('@modelcontextprotocol/server-everything'))}, stdio]
      env:
        DEMO_API_KEY: { secret: demo.api-key }   # injected by Warden; the agent never holds it
      defaults: { risk: low }
    - name: files        # @modelcontextprotocol/server-filesystem, confined to the workspace
      transport: stdio
      command: ${node}
      args: [${JSON.stringify(serverEntry('@modelcontextprotocol/server-filesystem'))}, ${JSON.stringify(workspace)}]
      sandbox:           # like every stdio server, in a sandbox; it sees the workspace and nothing else of the host's files
        mounts: [{ path: ${JSON.stringify(workspace)}, writable: true }]
      defaults: { risk: low }
      tools:
        write_file: { risk: high, tags: [writes] }
        edit_file: { risk: high, tags: [writes] }
        move_file: { risk: high, tags: [destructive] }
`;
}

/** The demo's own policy, beside the shipped set. */
export const DEMO_POLICY = `// warden demo: no agent writes .env files, whoever approves.
@id("demo-no-env-files")
forbid(principal, action == Warden::Action::"files.write_file", resource)
when { context.args.path like "*.env" };
`;

const out = (line = ''): void => void process.stdout.write(`${line}\n`);
const dim = (s: string): string => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

/**
 * `warden demo`: starts Warden on a throwaway data directory with real MCP servers, registers
 * an agent and an approver, runs the example agent (`examples/demo-agent.mjs`, a separate
 * process written with the SDK), approves its held call with the CLI as a person would, and
 * prints the task's audit trail. Every step is a real request through the one pipeline.
 */
export async function runDemo(opts: { keep?: boolean; port?: number } = {}): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-demo-'));
  const dataDir = join(dir, 'data');
  const workspace = join(dir, 'workspace');
  await mkdir(dataDir, { recursive: true });
  await mkdir(workspace, { recursive: true });
  await writeFile(join(workspace, 'notes.md'), '# Project notes\n- ship the gateway\n- write the audit log\n');
  await writeFile(join(dataDir, 'warden.yaml'), demoConfig(workspace));
  // The files server runs as the sandbox's unprivileged user: the workspace is theirs to write.
  await handToSandboxUser(workspace);

  out(bold('Warden demo') + dim(' — every line below is a real request through Warden'));
  out(dim(`  data dir ${dataDir} (SQLite); workspace ${workspace}`));
  const warden = await Warden.start({ dataDir, host: '127.0.0.1', port: opts.port ?? 0, logger: pino({ level: 'silent' }) });
  let agentExit = 1;
  try {
    // The shipped policies were copied on first start; the demo's goes beside them.
    await writeFile(join(dataDir, 'policies', 'demo.cedar'), DEMO_POLICY);
    const url = warden.url;
    const adminKey = warden.adminKey ?? '';
    const admin = async (method: string, path: string, body?: unknown): Promise<any> => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const json = (await res.json()) as any;
      if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
      return json;
    };
    const cli = (args: string[], key = adminKey) => run(process.execPath, [BIN, ...args], { env: { ...process.env, WARDEN_URL: url, WARDEN_ADMIN_KEY: key } });
    out(`warden │ listening on ${url}; upstreams everything, files (MCP over stdio)`);

    // Setup, as an admin would do it.
    await admin('PUT', '/v1/secrets/demo.api-key', { value: `demo_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}` });
    out('admin  │ $ warden secret set demo.api-key      (stored encrypted; injected into the everything server)');
    const alice = await admin('POST', '/v1/persons', { name: 'Alice', email: 'alice@example.com', roles: ['approver'] });
    out(`admin  │ $ warden person add Alice --role approver   → ${alice.person.id}`);
    const key = await generateAgentKey();
    const keyFile = join(dir, 'demo-agent.jwk.json');
    await saveAgentKey(key, keyFile);
    const registered = await admin('POST', '/v1/agents', {
      name: 'demo-agent',
      owner: 'alice@example.com',
      purpose: 'keeps the project notes tidy',
      riskCategory: 'limited',
      capabilities: ['everything.*', 'files.*'],
      maxTaskLifetimeSec: 3600,
      publicKeys: [key.publicJwk],
    });
    out(`admin  │ $ warden agent add demo-agent   → ${registered.agent.id} (its own key pair; no shared secret)`);
    await admin('POST', '/v1/policy/reload', {});
    out('admin  │ policies: the shipped set + demo.cedar (no .env writes)');

    // The agent, as its own process.
    const child = spawn(process.execPath, [AGENT], {
      cwd: ROOT,
      env: { ...process.env, WARDEN_URL: url, WARDEN_AGENT_ID: registered.agent.id, WARDEN_AGENT_KEY: keyFile, DEMO_WORKSPACE: workspace },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let taskId = '';
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = /^TASK (\S+)$/.exec(line);
      if (m) taskId = m[1]!;
      else out(line);
    });
    // A person watches the queue and approves from the CLI, as an approver would.
    let approving = true;
    const watcher = (async () => {
      const seen = new Set<string>();
      while (approving) {
        const pending = (await admin('GET', '/v1/approvals?status=pending')).approvals as { id: string; action: string }[];
        for (const a of pending.filter((p) => !seen.has(p.id))) {
          seen.add(a.id);
          out(`person │ (Alice is notified: ${a.action} waits for approval ${a.id})`);
          out(`person │ $ warden approvals show ${a.id}`);
          const shown = (await cli(['approvals', 'show', a.id], alice.apiKey)).stdout.split('\n').filter((l) => /^(action|agent|task|approvals|policies)\b/.test(l.trim()));
          for (const l of shown) out(`person │   ${l.trim()}`);
          out(`person │ $ warden approvals approve ${a.id} --comment "summary looks right"`);
          const done = await cli(['approvals', 'approve', a.id, '--comment', 'summary looks right'], alice.apiKey);
          out(`person │   ${done.stdout.trim()}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    agentExit = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
    approving = false;
    await watcher;

    out(`\n6. The audit trail of task ${taskId}, as \`warden audit replay\` tells it`);
    out(`person │ $ warden audit replay ${taskId}`);
    for (const line of formatStory(await admin('GET', `/v1/audit/replay/${taskId}`))) out(`audit  │ ${line}`);
    out(`person │ $ warden audit verify`);
    await admin('POST', '/v1/audit/checkpoints', {});
    const verified = await cli(['--json', 'audit', 'verify', '--data-dir', dataDir]);
    const report = JSON.parse(verified.stdout) as { ok: boolean; entries: number; checkpointsVerified: number };
    out(`audit  │ ${report.ok ? 'OK' : 'TAMPERED'}: ${report.entries} entries match ${report.checkpointsVerified} signed checkpoint(s)`);
    out(dim('\nEvery call above was recorded before it was forwarded (tool.call) and after (tool.result), arguments'));
    out(dim('and results by digest, in a Merkle tree whose signed checkpoints prove nothing was changed since.'));
    out(dim(`\`warden demo --keep\` keeps the data directory (warden serve --data-dir ${dataDir}; docs/audit.md).`));
  } finally {
    await warden.close();
    if (!opts.keep) await rm(dir, { recursive: true, force: true });
    else out(dim(`kept ${dir}`));
  }
  return agentExit;
}
