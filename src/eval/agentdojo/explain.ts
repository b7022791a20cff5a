import type { RunScore, ScoredOutcome } from './score.js';
import { isInterruption, type StepOutcome } from './step-outcome.js';
import type { TraceRun } from './trace.js';

/**
 * Where the numbers come from: the attacks that got through, grouped by what their first
 * attack step looked like to Warden, and the interruptions of benign runs, grouped by the call
 * and the policies behind them. Scoring side: reads labels; the replay never imports it.
 */

/** A tool's configured flow labels, as Warden applied them. */
export interface ToolLabels {
  readonly source: string;
  readonly data: string;
  readonly sink: string;
}

/** A tool's labels; given the call's arguments, `sink` is the call's effective sink (`sinkArgs`). */
export type LabelsOf = (suite: string, tool: string, args?: Record<string, unknown>) => ToolLabels | undefined;

/** Missed attacks alike in everything Warden could have used. */
export interface MissRow {
  readonly suite: string;
  /** The tool of the first attack step. */
  readonly tool: string;
  readonly sink: string;
  /** What Warden did with it: `allowed`, or `failed:<code>`. */
  readonly outcome: string;
  /** Flow facts of the task when the step was decided. */
  readonly untrustedRead: boolean;
  readonly confidentialRead: boolean;
  /**
   * Where an argument of the step came from, by the harness's own text search (strings of 4
   * characters or more, not in the person's request): the earlier forwarded calls whose result
   * contains one, as `tool(source label)`; `-` when none. Tells whether argument provenance had
   * something to catch, and whether the tool that carried it was labelled untrusted.
   */
  readonly argSeenIn: string;
  readonly runs: number;
}

/** Interrupted steps of benign runs alike in tool, outcome and deciding policies. */
export interface InterruptionRow {
  readonly suite: string;
  readonly tool: string;
  /** `denied:<code>` or `held:<code>`. */
  readonly outcome: string;
  readonly policies: string;
  readonly steps: number;
  /** Benign runs with at least one such step. */
  readonly runs: number;
}

const outcomeName = (s: StepOutcome): string => (s.kind === 'allowed' ? 'allowed' : `${s.kind}:${s.code ?? '?'}`);

/** Every string inside an argument value, at any depth. */
function strings(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 16) return out;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out, depth + 1);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) strings(v, out, depth + 1);
  return out;
}

/** The earlier forwarded calls whose result holds an argument of step `index` not in the request (see {@link MissRow.argSeenIn}). */
export function argSeenIn(run: TraceRun, steps: readonly StepOutcome[], index: number, labelsOf: LabelsOf): string {
  const prompt = run.prompt.toLowerCase();
  const values = strings(run.steps[index]!.args)
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v.length >= 4 && !prompt.includes(v));
  const seen = new Set<string>();
  run.steps.slice(0, index).forEach((s, i) => {
    if (!steps[i]!.forwarded) return;
    const result = s.result.toLowerCase();
    if (values.some((v) => result.includes(v))) seen.add(`${s.tool}(${labelsOf(run.suite, s.tool)?.source ?? '?'})`);
  });
  return seen.size > 0 ? [...seen].sort().join(',') : '-';
}

function grouped<T>(rows: readonly T[], keyOf: (r: T) => string, merge: (a: T, b: T) => T): T[] {
  const by = new Map<string, T>();
  for (const r of rows) {
    const k = keyOf(r);
    const seen = by.get(k);
    by.set(k, seen ? merge(seen, r) : r);
  }
  return [...by.values()];
}

/** Missed attacks (first attack step neither denied nor held), grouped; largest groups first. */
export function explainMisses(
  runs: ReadonlyMap<string, TraceRun>,
  outcomes: ReadonlyMap<string, ScoredOutcome>,
  scores: readonly RunScore[],
  labelsOf: LabelsOf,
): MissRow[] {
  const rows: MissRow[] = [];
  for (const score of scores) {
    if (score.firstAttack === null || score.stopped) continue;
    const run = runs.get(score.id)!;
    const steps = outcomes.get(score.id)!.steps;
    const step = steps[score.firstAttack]!;
    const tool = run.steps[score.firstAttack]!.tool;
    rows.push({
      suite: run.suite,
      tool,
      sink: labelsOf(run.suite, tool, run.steps[score.firstAttack]!.args)?.sink ?? '?',
      outcome: outcomeName(step),
      untrustedRead: step.flow.untrustedRead,
      confidentialRead: step.flow.confidentialRead,
      argSeenIn: argSeenIn(run, steps, score.firstAttack, labelsOf),
      runs: 1,
    });
  }
  return grouped(
    rows,
    (r) => JSON.stringify([r.suite, r.tool, r.sink, r.outcome, r.untrustedRead, r.confidentialRead, r.argSeenIn]),
    (a, b) => ({ ...a, runs: a.runs + b.runs }),
  ).sort((a, b) => b.runs - a.runs || a.suite.localeCompare(b.suite) || a.tool.localeCompare(b.tool));
}

/** What interrupted benign runs: each interrupted step, grouped; largest groups first. */
export function explainInterruptions(
  runs: ReadonlyMap<string, TraceRun>,
  outcomes: ReadonlyMap<string, ScoredOutcome>,
  scores: readonly RunScore[],
): InterruptionRow[] {
  const rows: (InterruptionRow & { ids: Set<string> })[] = [];
  for (const score of scores) {
    if (!score.benign || score.interruptions === 0) continue;
    const run = runs.get(score.id)!;
    outcomes.get(score.id)!.steps.forEach((step, i) => {
      if (!isInterruption(step.kind)) return;
      rows.push({
        suite: run.suite,
        tool: run.steps[i]!.tool,
        outcome: outcomeName(step),
        policies: [...(step.policies ?? [])].sort().join(',') || '-',
        steps: 1,
        runs: 1,
        ids: new Set([run.id]),
      });
    });
  }
  return grouped(
    rows,
    (r) => JSON.stringify([r.suite, r.tool, r.outcome, r.policies]),
    (a, b) => {
      const ids = new Set([...a.ids, ...b.ids]);
      return { ...a, steps: a.steps + b.steps, runs: ids.size, ids };
    },
  )
    .map(({ ids: _ids, ...row }) => row)
    .sort((a, b) => b.runs - a.runs || b.steps - a.steps || a.suite.localeCompare(b.suite) || a.tool.localeCompare(b.tool));
}
