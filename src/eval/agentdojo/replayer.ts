import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { pino, type Logger } from 'pino';
import type { ConfigFile } from '../../config/schema.js';
import type { ApprovalId } from '../../domain/index.js';
import { WardenAgent, generateAgentKey } from '../../sdk/index.js';
import { CONFIG_FILE, Warden } from '../../warden.js';
import { evalConfig } from './eval-config.js';
import { ReplayScript } from './replay-script.js';
import { startReplayUpstream, type ReplayUpstream } from './replay-upstream.js';
import { classifyRefusal, type FlowFacts, type StepOutcome } from './step-outcome.js';
import type { ReplayRun } from './trace.js';

/** What Warden did with each step of one run, in order. */
export interface RunOutcome {
  readonly id: string;
  readonly steps: readonly StepOutcome[];
}

export interface ReplayerOptions {
  /** The Warden config to evaluate (`--config`): text and file name, for its errors. */
  readonly configText: string;
  readonly configFile: string;
  /** Each suite to replay and the tools its upstream lists. */
  readonly tools: ReadonlyMap<string, readonly string[]>;
  /** `.cedar` files to decide with instead of the shipped set. */
  readonly policiesDir?: string;
  readonly logger?: Logger;
}

/**
 * Replays recorded runs through a real Warden: started in this process on a throwaway data
 * directory (SQLite), the suites' upstreams pointed at the replay upstream, one agent
 * registered through the admin API. Each run is a task of that agent, and each step a
 * `tools/call` through the MCP gateway with the official MCP client and the SDK's DPoP
 * transport — the path a real agent's calls take.
 *
 * Runs MUST be replayed one at a time: the replay upstream answers "the current step".
 */
export class Replayer {
  private constructor(
    private readonly warden: Warden,
    private readonly agent: WardenAgent,
    private readonly upstream: ReplayUpstream,
    private readonly script: ReplayScript,
    private readonly dataDir: string,
    private readonly tools: ReadonlyMap<string, readonly string[]>,
  ) {}

  /** The config Warden decides under, as overlaid for the eval. */
  get config(): ConfigFile {
    return this.warden.context.config;
  }

  static async start(opts: ReplayerOptions): Promise<Replayer> {
    const script = new ReplayScript();
    // First: Warden lists upstreams it has not seen yet when it starts.
    const upstream = await startReplayUpstream(opts.tools, script);
    const dataDir = await mkdtemp(join(tmpdir(), 'warden-eval-'));
    try {
      const cfg = evalConfig(opts.configText, opts.configFile, [...opts.tools.keys()], (s) => upstream.url(s));
      await writeFile(join(dataDir, CONFIG_FILE), cfg.text, { mode: 0o600 });
      if (opts.policiesDir) await copyPolicies(opts.policiesDir, join(dataDir, cfg.config.policy.dir));
      const warden = await Warden.start({ dataDir, host: '127.0.0.1', port: 0, logger: opts.logger ?? pino({ level: 'silent' }) });
      try {
        const agent = await registerAgent(warden, [...opts.tools.keys()]);
        return new Replayer(warden, agent, upstream, script, dataDir, opts.tools);
      } catch (err) {
        await warden.close();
        throw err;
      }
    } catch (err) {
      await upstream.close();
      await rm(dataDir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Replays one run: a task whose purpose is the run's prompt and whose scope is its suite's
   * tools, then every step in order. A step Warden denies or holds is recorded and never reaches
   * the upstream, so Warden learns nothing from its result — as in a real run — and the replay
   * goes on with the next recorded step: a later step is still judged (the first attack step
   * may come after an interrupted benign one), in the flow state Warden really has.
   */
  async replay(run: ReplayRun): Promise<RunOutcome> {
    const tools = this.tools.get(run.suite);
    if (!tools) throw new TypeError(`suite ${run.suite} was not set up for this replay`);
    const task = await this.agent.startTask({ purpose: run.prompt, scope: scopeOf(run.suite, tools) });
    const transport = task.mcpTransport();
    const client = new Client({ name: 'warden-eval-agentdojo', version: '1.0.0' });
    const steps: StepOutcome[] = [];
    try {
      await client.connect(transport);
      for (const step of run.steps) {
        const flow = await this.flowOf(task.taskId);
        this.script.arm(run.suite, step);
        let refused: unknown;
        try {
          await client.callTool({ name: `${run.suite}.${step.tool}`, arguments: step.args });
        } catch (err) {
          refused = err ?? new Error('callTool threw nothing');
        }
        // Settled before anything is thrown on, so the script is ready for the next run.
        const settled = this.script.settle();
        let outcome: Omit<StepOutcome, 'forwarded' | 'flow'> = { kind: 'allowed' };
        if (refused !== undefined) {
          const refusal = classifyRefusal(refused);
          outcome = refusal.kind === 'held' && !refusal.policies ? { ...refusal, ...(await this.heldBy(refused)) } : refusal;
        }
        if (settled.unexpected.length > 0) outcome = { kind: 'failed', code: 'REPLAY_MISMATCH' };
        else if (outcome.kind === 'allowed' && !settled.forwarded) outcome = { kind: 'failed', code: 'REPLAY_NOT_FORWARDED' };
        steps.push({ ...outcome, forwarded: settled.forwarded, flow });
      }
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close().catch(() => undefined);
      await task.end().catch(() => undefined);
    }
    return { id: run.id, steps };
  }

  /** The task's flow facts now, as Warden's store holds them. */
  private async flowOf(taskId: string): Promise<FlowFacts> {
    const f = await this.warden.context.store.getTaskFlow(taskId, []);
    return { untrustedRead: f.untrustedRead, confidentialRead: f.confidentialRead };
  }

  /** A held call's refusal names its approval; the approval names the policies that asked for it. */
  private async heldBy(err: unknown): Promise<{ policies?: string[] }> {
    const id = (err as { data?: { details?: { approval?: unknown } } }).data?.details?.approval;
    if (typeof id !== 'string') return {};
    const approval = await this.warden.context.store.getApproval(id as ApprovalId);
    return approval ? { policies: [...approval.policies] } : {};
  }

  async close(): Promise<void> {
    try {
      await this.warden.close();
    } finally {
      await this.upstream.close();
      await rm(this.dataDir, { recursive: true, force: true });
    }
  }
}

/** The task's scope: every tool of its suite, by name (what a person would grant the agent for this kind of work). */
export function scopeOf(suite: string, tools: readonly string[]): string[] {
  return [...new Set(tools)].filter((t) => /^[A-Za-z0-9_.-]{1,128}$/.test(t)).sort().map((t) => `${suite}.${t}`);
}

async function copyPolicies(from: string, to: string): Promise<void> {
  const files = (await readdir(from)).filter((f) => f.endsWith('.cedar'));
  if (files.length === 0) throw new TypeError(`${from}: no .cedar files`);
  await mkdir(to, { recursive: true });
  for (const f of files) await copyFile(join(from, f), join(to, f));
}

/** One agent for the whole replay, its capability profile every tool of the replayed suites. */
async function registerAgent(warden: Warden, suites: readonly string[]): Promise<WardenAgent> {
  const key = await generateAgentKey();
  const res = await fetch(`${warden.listenUrl}/v1/agents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${warden.adminKey ?? ''}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'agentdojo-replay',
      owner: 'eval@warden.local',
      purpose: 'replays recorded AgentDojo runs through the gateway',
      riskCategory: 'limited',
      capabilities: suites.map((s) => `${s}.*`),
      maxTaskLifetimeSec: 3600,
      publicKeys: [key.publicJwk],
    }),
  });
  const body = (await res.json()) as { agent?: { id?: string }; error?: { code?: string } };
  if (res.status !== 201 || typeof body.agent?.id !== 'string') throw new Error(`registering the replay agent failed: ${body.error?.code ?? res.status}`);
  return new WardenAgent({ wardenUrl: warden.url, agentId: body.agent.id, key });
}
