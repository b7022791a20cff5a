import { basename } from 'node:path';
import { printTable } from '../../cli/output.js';
import type { EvalReport, GroupTally } from './run-eval.js';
import type { Rate } from './score.js';

/** Rows shown of the miss and interruption breakdowns (all of them are in `--json`). */
const TOP = 25;

const n = (v: number): string => v.toLocaleString('en-US');
export const percent = (r: Rate): string => (r.rate === null ? '-' : `${(r.rate * 100).toFixed(1)}%`);
const count = (r: Rate): string => `${n(r.count)} / ${n(r.of)}`;
const yes = (b: boolean): string => (b ? 'yes' : 'no');

const out = (line = ''): void => void process.stdout.write(`${line}\n`);

function groupRows(groups: readonly GroupTally[], name: string, withBenign: boolean): Record<string, unknown>[] {
  return groups.map((g) => ({
    [name]: g.key,
    runs: n(g.runs),
    'attacks stopped': percent(g.tally.attacksStopped),
    'of attacked': count(g.tally.attacksStopped),
    'successful stopped': percent(g.tally.successfulAttacksStopped),
    ...(withBenign ? { 'benign interrupted': percent(g.tally.benignInterrupted), 'of benign': count(g.tally.benignInterrupted) } : {}),
  }));
}

const GROUP_COLUMNS = (name: string, withBenign: boolean): string[] => [
  name,
  'runs',
  'attacks stopped',
  'of attacked',
  'successful stopped',
  ...(withBenign ? ['benign interrupted', 'of benign'] : []),
];

/** The report as tables on stdout (docs/eval.md explains each). */
export function printReport(r: EvalReport): void {
  out(`AgentDojo replay: ${n(r.replay.runs)} runs (${n(r.replay.steps)} calls) of ${basename(r.traces.file)} through Warden`);
  out(`config ${r.config}; policies ${r.policies ?? 'shipped set (config/policies)'}${r.selection.suites ? `; suites ${r.selection.suites.join(', ')}` : ''}${r.selection.sample ? `; sample ${n(r.selection.sample)}` : ''}${r.selection.limit ? `; limit ${n(r.selection.limit)}` : ''}`);
  out();
  printTable(
    [
      { metric: 'attacks stopped', rate: percent(r.overall.attacksStopped), count: count(r.overall.attacksStopped) },
      { metric: '  of them, successful originally', rate: percent(r.overall.successfulAttacksStopped), count: count(r.overall.successfulAttacksStopped) },
      { metric: 'benign runs interrupted', rate: percent(r.overall.benignInterrupted), count: count(r.overall.benignInterrupted) },
    ],
    ['metric', 'rate', 'count'],
  );
  out(`(runs in neither denominator: ${n(r.overall.excluded)} — attacked without an attack step, or attack-free without utility)`);

  out('\nBy suite');
  printTable(groupRows(r.bySuite, 'suite', true), GROUP_COLUMNS('suite', true));
  out('\nBy attack');
  printTable(groupRows(r.byAttack.filter((g) => g.key !== '(none)'), 'attack', false), GROUP_COLUMNS('attack', false));
  out('\nBy model (pipeline)');
  printTable(groupRows(r.byModel, 'model', true), GROUP_COLUMNS('model', true));

  out(`\nMissed attacks, by their first attack step${r.misses.length > TOP ? ` (top ${TOP} of ${r.misses.length} groups)` : ''}`);
  printTable(
    r.misses.slice(0, TOP).map((m) => ({
      runs: n(m.runs),
      suite: m.suite,
      tool: m.tool,
      sink: m.sink,
      outcome: m.outcome,
      'untrusted read': yes(m.untrustedRead),
      'confidential read': yes(m.confidentialRead),
      'argument seen in': m.argSeenIn,
    })),
    ['runs', 'suite', 'tool', 'sink', 'outcome', 'untrusted read', 'confidential read', 'argument seen in'],
  );

  out(`\nWhat interrupted benign runs${r.interruptions.length > TOP ? ` (top ${TOP} of ${r.interruptions.length} groups)` : ''}`);
  printTable(
    r.interruptions.slice(0, TOP).map((i) => ({ runs: n(i.runs), steps: n(i.steps), suite: i.suite, tool: i.tool, outcome: i.outcome, policies: i.policies })),
    ['runs', 'steps', 'suite', 'tool', 'outcome', 'policies'],
  );

  out('\nReplayed calls');
  printTable(
    [
      ...Object.entries(r.steps.byKind).map(([kind, c]) => ({ outcome: kind, calls: n(c) })),
      ...Object.entries(r.steps.byCode)
        .sort((a, b) => b[1] - a[1])
        .map(([code, c]) => ({ outcome: `  ${code}`, calls: n(c) })),
    ],
    ['outcome', 'calls'],
  );
  out(`${n(r.steps.forwarded)} calls reached the replay upstream (allowed, and held ones once approved and repeated)`);
  out(`\n${n(r.replay.runs)} runs in ${r.replay.seconds} s: ${r.replay.runsPerSec} runs/s, ${r.replay.stepsPerSec} calls/s`);
  if (r.traces.badLines > 0) {
    out(`${n(r.traces.badLines)} of ${n(r.traces.lines)} lines of ${r.traces.file} are not valid runs and were skipped:`);
    for (const b of r.traces.bad) out(`  line ${b.line}: ${b.problems.join('; ')}`);
  }
  if (r.replayErrors > 0) out(`WARNING: ${n(r.replayErrors)} calls were not replayed as recorded (REPLAY_*): the numbers are suspect`);
}
