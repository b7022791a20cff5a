import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { generateAgentKey, saveAgentKey } from '../sdk/keys.js';
import { Warden } from '../warden.js';

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

    out(`\n6. The audit trail of task ${taskId}`);
    // The task's own entries, and those of the approvals of its calls.
    const all = (await admin('GET', '/v1/events?limit=1000')).events as { seq: number; type: string; outcome: string; subject: string; code?: string; actor: { kind: string; id: string }; chain?: Record<string, any>; data: Record<string, any> }[];
    const events = all.filter((e) => e.subject === taskId || e.chain?.task === taskId || e.data.task === taskId);
    for (const e of events) {
      const d = e.data;
      const c = e.chain ?? {};
      const tool = c.tool ?? d.tool ?? d.action;
      const decision = c.decision?.effect ?? d.decision;
      const policies: string[] = c.decision?.policies ?? d.policies ?? [];
      const approval = c.approvals?.[0] ?? d.approval;
      const what = tool
        ? `${tool}${decision ? ` decision=${decision}` : ''}${policies.length ? ` policies=${policies.join(',')}` : ''}${e.code ?? d.code ? ` code=${e.code ?? d.code}` : ''}${approval && e.type !== 'approval.decide' ? ` approval=${approval}` : ''}${d.status ? ` status=${d.status}` : ''}${d.redactions?.length ? ` redactions=${d.redactions.length}` : ''}`
        : (d.purpose ?? d.reason ?? '');
      const by = e.actor.kind === 'person' ? ` by=${e.actor.id}` : '';
      out(`audit  │ #${String(e.seq).padStart(3)} ${e.type.padEnd(17)} ${e.outcome.padEnd(8)} ${String(what).slice(0, 110)}${by}`);
    }
    out(dim('\nEvery call above was recorded before it was forwarded (tool.call) and after (tool.result);'));
    out(dim('arguments and results by digest. `warden demo --keep` keeps the data directory to explore'));
    out(dim(`(warden serve --data-dir ${dataDir}, then warden events --subject ${taskId}).`));
  } finally {
    await warden.close();
    if (!opts.keep) await rm(dir, { recursive: true, force: true });
    else out(dim(`kept ${dir}`));
  }
  return agentExit;
}
