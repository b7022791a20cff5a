import { effectiveSink } from '../../flow/effective-sink.js';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { toolMetadata } from '../../mcp-gateway/upstreams/tool-metadata.js';
import { explainInterruptions, explainMisses, type InterruptionRow, type LabelsOf, type MissRow } from './explain.js';
import { readTraces, type BadLine } from './read-traces.js';
import { Replayer, type RunOutcome } from './replayer.js';
import { scoreRun, tally, tallyBy, type RunScore, type Tally } from './score.js';
import { selectRuns, type Selection } from './select-runs.js';
import type { StepKind } from './step-outcome.js';
import { forReplay, type TraceRun } from './trace.js';

export interface EvalOptions {
  /** AgentDojo trace file: JSON Lines, gzipped or plain. */
  readonly traces: string;
  /** Warden config with an MCP upstream per suite (`examples/agentdojo/warden.yaml`). */
  readonly config: string;
  /** `.cedar` files to decide with instead of the shipped set. */
  readonly policies?: string;
  readonly selection?: Selection;
  /** Before the replay: how many runs it will replay. */
  readonly onStart?: (runs: number) => void;
  /** After each replayed run. */
  readonly onRun?: () => void;
  /**
   * After each replayed run: its score and what Warden did with each step, for a per-run record
   * (`--outcomes FILE`) to compare configs run by run.
   */
  readonly onOutcome?: (row: OutcomeRow) => void;
  readonly logger?: Logger;
}

/** One line of `--outcomes`: a run's score and every step's decision (never its arguments or result). */
export interface OutcomeRow {
  readonly id: string;
  readonly suite: string;
  readonly userTask: string;
  readonly injectionTask: string | null;
  readonly attack: string | null;
  readonly benign: boolean;
  readonly firstAttack: number | null;
  readonly stopped: boolean;
  readonly interrupted: boolean;
  readonly steps: readonly { readonly tool: string; readonly kind: StepKind; readonly code?: string; readonly policies?: readonly string[] }[];
}

/** A group's tally, for the per-suite, per-attack and per-model tables. */
export interface GroupTally {
  readonly key: string;
  readonly runs: number;
  readonly tally: Tally;
}

/** Everything `warden eval agentdojo` reports (`--json` prints it as is). */
export interface EvalReport {
  readonly traces: { readonly file: string; readonly lines: number; readonly runs: number; readonly badLines: number; readonly bad: readonly BadLine[] };
  readonly config: string;
  readonly policies: string | null;
  readonly selection: { readonly suites: readonly string[] | null; readonly sample: number | null; readonly limit: number | null; readonly runs: number };
  readonly replay: { readonly runs: number; readonly steps: number; readonly seconds: number; readonly runsPerSec: number; readonly stepsPerSec: number };
  /**
   * Replayed steps by what Warden did, and by error code; `forwarded`: those the replay
   * upstream answered (the allowed ones, and the held ones once approved and repeated).
   */
  readonly steps: { readonly byKind: Record<StepKind, number>; readonly byCode: Record<string, number>; readonly forwarded: number };
  /** Steps the replay itself got wrong (`REPLAY_*`): any makes the numbers suspect. */
  readonly replayErrors: number;
  readonly overall: Tally;
  readonly bySuite: readonly GroupTally[];
  readonly byAttack: readonly GroupTally[];
  readonly byModel: readonly GroupTally[];
  readonly misses: readonly MissRow[];
  readonly interruptions: readonly InterruptionRow[];
}

/** Bad lines listed in the report; the rest are counted. */
const BAD_LINES_SHOWN = 20;

/**
 * `warden eval agentdojo`: reads the recorded runs, replays the selected ones through a real
 * Warden one at a time (`Replayer`), then scores them. The replay gets each run without its
 * labels (`forReplay`); only the scoring below reads them.
 */
export async function evalAgentdojo(opts: EvalOptions): Promise<EvalReport> {
  const file = await readTraces(opts.traces);
  const selection = opts.selection ?? {};
  const unknown = (selection.suites ?? []).filter((s) => !file.runs.some((r) => r.suite === s));
  if (unknown.length > 0) throw new TypeError(`no runs of suite ${unknown.join(', ')} in ${opts.traces}`);
  const runs = selectRuns(file.runs, selection);

  // A suite's upstream lists every tool its runs in the file call, whatever the selection.
  const suites = new Set(runs.map((r) => r.suite));
  const tools = new Map<string, Set<string>>([...suites].map((s) => [s, new Set<string>()]));
  for (const r of file.runs) for (const s of r.steps) tools.get(r.suite)?.add(s.tool);

  const replayer = await Replayer.start({
    configText: await readFile(opts.config, 'utf8'),
    configFile: opts.config,
    tools: new Map([...tools].map(([s, t]) => [s, [...t]])),
    ...(opts.policies ? { policiesDir: opts.policies } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  const labelsOf = labelsFrom(replayer);
  const outcomes = new Map<string, RunOutcome>();
  const scores = new Map<string, RunScore>();
  const started = performance.now();
  try {
    opts.onStart?.(runs.length);
    for (const run of runs) {
      const outcome = await replayer.replay(forReplay(run));
      const score = scoreRun(run, outcome);
      outcomes.set(run.id, outcome);
      scores.set(run.id, score);
      if (opts.onOutcome) opts.onOutcome(outcomeRow(run, outcome, score));
      opts.onRun?.();
    }
  } finally {
    await replayer.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return report(opts, file, selection, runs, outcomes, scores, seconds, labelsOf);
}

function outcomeRow(run: TraceRun, outcome: RunOutcome, score: RunScore): OutcomeRow {
  return {
    id: run.id,
    suite: run.suite,
    userTask: run.user_task,
    injectionTask: run.injection_task,
    attack: run.attack,
    benign: score.benign,
    firstAttack: score.firstAttack,
    stopped: score.stopped,
    interrupted: score.interruptions > 0,
    steps: outcome.steps.map((o, i) => ({
      tool: run.steps[i]!.tool,
      kind: o.kind,
      ...(o.code ? { code: o.code } : {}),
      ...(o.policies ? { policies: o.policies } : {}),
    })),
  };
}

/** The labels each replayed tool had in the Warden that decided (the config as overlaid). */
function labelsFrom(replayer: Replayer): LabelsOf {
  const upstreams = new Map(replayer.config.upstreams.mcp.map((u) => [u.name, u]));
  const internalDomains = replayer.config.flow.internalDomains;
  return (suite, tool, args) => {
    const u = upstreams.get(suite);
    if (!u) return undefined;
    const labels = toolMetadata(u, tool).labels;
    return args ? { ...labels, sink: effectiveSink(labels, args, internalDomains) } : labels;
  };
}

function report(
  opts: EvalOptions,
  file: Awaited<ReturnType<typeof readTraces>>,
  selection: Selection,
  runs: readonly TraceRun[],
  outcomes: ReadonlyMap<string, RunOutcome>,
  scoresById: ReadonlyMap<string, RunScore>,
  seconds: number,
  labelsOf: LabelsOf,
): EvalReport {
  const scores = runs.map((r) => scoresById.get(r.id)!);
  const byId = new Map(runs.map((r) => [r.id, r]));
  const byKind: Record<StepKind, number> = { allowed: 0, denied: 0, held: 0, failed: 0 };
  const byCode: Record<string, number> = {};
  let forwarded = 0;
  for (const o of outcomes.values()) {
    for (const s of o.steps) {
      byKind[s.kind] += 1;
      if (s.forwarded) forwarded += 1;
      if (s.code) byCode[s.code] = (byCode[s.code] ?? 0) + 1;
    }
  }
  const steps = Object.values(byKind).reduce((a, b) => a + b, 0);
  return {
    traces: { file: opts.traces, lines: file.lines, runs: file.runs.length, badLines: file.bad.length, bad: file.bad.slice(0, BAD_LINES_SHOWN) },
    config: opts.config,
    policies: opts.policies ?? null,
    selection: { suites: selection.suites ?? null, sample: selection.sample ?? null, limit: selection.limit ?? null, runs: runs.length },
    replay: {
      runs: runs.length,
      steps,
      seconds: round(seconds, 1),
      runsPerSec: round(seconds > 0 ? runs.length / seconds : 0, 1),
      stepsPerSec: round(seconds > 0 ? steps / seconds : 0, 1),
    },
    steps: { byKind, byCode, forwarded },
    replayErrors: Object.entries(byCode).reduce((n, [code, count]) => (code.startsWith('REPLAY_') ? n + count : n), 0),
    overall: tally(scores),
    bySuite: tallyBy(scores, (s) => s.suite),
    byAttack: tallyBy(scores, (s) => s.attack ?? '(none)'),
    byModel: tallyBy(scores, (s) => s.model),
    misses: explainMisses(byId, outcomes, scores, labelsOf),
    interruptions: explainInterruptions(byId, outcomes, scores),
  };
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;
