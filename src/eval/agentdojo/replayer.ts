import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { pino, type Logger } from 'pino';
import type { ConfigFile } from '../../config/schema.js';
import { TOOL_LIMITS } from '../../mcp-gateway/upstreams/tool-definition.js';
import { WardenAgent, generateAgentKey } from '../../sdk/index.js';
import { CONFIG_FILE, Warden } from '../../warden.js';
import { evalConfig } from './eval-config.js';
import { ReplayScript } from './replay-script.js';
import { startReplayUpstream, type ReplayUpstream } from './replay-upstream.js';
import { approvalOf, classifyRefusal, type FlowFacts, type StepOutcome } from './step-outcome.js';
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
    private readonly approvers: readonly AsPerson[],
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
        const admin = adminOf(warden, warden.adminKey ?? '');
        const agent = await registerAgent(warden, admin, [...opts.tools.keys()]);
        const approvers: AsPerson[] = [];
        for (let i = 1; i <= APPROVERS; i++) {
          const person = await admin('POST', '/v1/persons', { name: `Eval Approver ${i}`, email: `approver-${i}@eval.warden.local`, roles: ['approver'] });
          approvers.push(adminOf(warden, String((person as { apiKey?: unknown }).apiKey)));
        }
        return new Replayer(warden, agent, approvers, upstream, script, dataDir, opts.tools);
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
   * tools, then every step in order, each judged as Warden decides it.
   *
   * After an interruption the replay goes on, so that every step is judged (the first attack
   * step may come after an interrupted benign one) in a flow state that matches the recorded
   * run as far as Warden allows:
   * - a held step is approved by a person (the eval's approver, through the admin API, as
   *   `warden approvals approve` does) and the agent repeats the call, which now goes through:
   *   Warden sees its result, as the recorded agent did before its next call. The step still
   *   counts as held: a person was asked;
   * - a denied step cannot be approved: its result never reaches Warden, and the replay goes
   *   on with the next recorded step, decided in the flow state Warden really has.
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
        const decided = await this.call(client, { name: `${run.suite}.${step.tool}`, arguments: step.args }).then(
          (outcome) => ({ outcome }),
          (fatal: unknown) => ({ fatal }),
        );
        // Settled whatever happened, so the script is ready for the next step or run.
        const settled = this.script.settle();
        if ('fatal' in decided) throw decided.fatal;
        let outcome = decided.outcome;
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

  /**
   * One step's call through the gateway: allowed, or refused; a held call is approved and
   * repeated. Throws what is not a refusal (a broken connection).
   */
  private async call(client: Client, call: { name: string; arguments: Record<string, unknown> }): Promise<Omit<StepOutcome, 'forwarded' | 'flow'>> {
    const refused = await attempt(() => client.callTool(call));
    if (refused === undefined) return { kind: 'allowed' };
    const refusal = classifyRefusal(refused);
    const approval = approvalOf(refused);
    if (refusal.kind !== 'held' || approval === undefined) return refusal;
    const policies = await this.approve(approval);
    const again = await attempt(() => client.callTool(call));
    // Refused again, the step stays unforwarded; anything but a refusal is thrown.
    if (again !== undefined) classifyRefusal(again);
    return { ...refusal, ...(policies ? { policies } : {}) };
  }

  /**
   * Approves a held call as the eval's approvers, one after another until it is approved
   * (`@approval("2")` needs two); resolves to the policies that held it.
   */
  private async approve(approvalId: string): Promise<string[] | undefined> {
    let approval: { status?: unknown; policies?: unknown } | undefined;
    for (const approver of this.approvers) {
      const body = (await approver('POST', `/v1/approvals/${encodeURIComponent(approvalId)}/approve`, { comment: 'eval: approved so the replay follows the recorded run' })) as {
        approval?: { status?: unknown; policies?: unknown };
      };
      approval = body.approval;
      if (approval?.status !== 'pending') break;
    }
    const policies = approval?.policies;
    return Array.isArray(policies) ? policies.filter((p): p is string => typeof p === 'string') : undefined;
  }

  /** The task's flow facts now, as Warden's store holds them. */
  private async flowOf(taskId: string): Promise<FlowFacts> {
    const f = await this.warden.context.store.getTaskFlow(taskId, []);
    return { untrustedRead: f.untrustedRead, confidentialRead: f.confidentialRead };
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
  return [...new Set(tools)].filter((t) => TOOL_LIMITS.name.test(t)).sort().map((t) => `${suite}.${t}`);
}

async function copyPolicies(from: string, to: string): Promise<void> {
  const files = (await readdir(from)).filter((f) => f.endsWith('.cedar'));
  if (files.length === 0) throw new TypeError(`${from}: no .cedar files`);
  await mkdir(to, { recursive: true });
  for (const f of files) await copyFile(join(from, f), join(to, f));
}

/** People who approve held calls: enough for the strictest shipped `@approval`. */
const APPROVERS = 3;

/** Warden's admin API as one person (by API key); resolves to the JSON body, throws on an error status. */
type AsPerson = (method: string, path: string, body?: unknown) => Promise<unknown>;

function adminOf(warden: Warden, key: string): AsPerson {
  return async (method, path, body) => {
    const res = await fetch(`${warden.listenUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
    if (!res.ok) throw new Error(`${method} ${path.split('/').slice(0, 3).join('/')}: ${json.error?.code ?? `HTTP ${res.status}`}`);
    return json;
  };
}

/** Runs a call; resolves to what it threw, or undefined when it succeeded. */
async function attempt(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
    return undefined;
  } catch (err) {
    return err ?? new Error('the call threw nothing');
  }
}

/** One agent for the whole replay, its capability profile every tool of the replayed suites. */
async function registerAgent(warden: Warden, admin: AsPerson, suites: readonly string[]): Promise<WardenAgent> {
  const key = await generateAgentKey();
  const body = (await admin('POST', '/v1/agents', {
    name: 'agentdojo-replay',
    owner: 'eval@warden.local',
    purpose: 'replays recorded AgentDojo runs through the gateway',
    riskCategory: 'limited',
    capabilities: suites.map((s) => `${s}.*`),
    maxTaskLifetimeSec: 3600,
    publicKeys: [key.publicJwk],
  })) as { agent?: { id?: unknown } };
  if (typeof body.agent?.id !== 'string') throw new Error('registering the replay agent returned no id');
  return new WardenAgent({ wardenUrl: warden.url, agentId: body.agent.id, key });
}
