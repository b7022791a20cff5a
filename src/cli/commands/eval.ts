import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { printReport } from '../../eval/agentdojo/print-report.js';
import { ReplayProgress } from '../../eval/agentdojo/progress.js';
import { evalAgentdojo } from '../../eval/agentdojo/run-eval.js';
import type { CliGlobals } from '../admin-client.js';
import { printJson } from '../output.js';

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};
const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

interface AgentdojoOptions {
  traces: string;
  config: string;
  policies?: string;
  suite?: string[];
  limit?: number;
  sample?: number;
  outcomes?: string;
  progress: boolean;
}

export function evalCommands(program: Command, g: CliGlobals): void {
  const evalCmd = program.command('eval').description('measure Warden against recorded agent runs');
  evalCmd
    .command('agentdojo')
    .description('replay recorded AgentDojo runs through a throwaway Warden and count attacks stopped and benign runs interrupted (docs/eval.md)')
    .requiredOption('--traces <file>', 'recorded runs: JSON Lines, gzipped or plain')
    .requiredOption('--config <file>', 'Warden config with an MCP upstream named after each suite (e.g. examples/agentdojo/warden.yaml)')
    .option('--policies <dir>', '.cedar files to decide with instead of the shipped set')
    .option('--suite <name>', 'only this suite (repeat, or comma-separated)', collect)
    .option('--sample <n>', 'a deterministic subset of n runs', positiveInt)
    .option('--limit <n>', 'at most n runs (after --suite and --sample)', positiveInt)
    .option('--outcomes <file>', 'also write one JSON line per replayed run: its score and each step\'s decision')
    .option('--no-progress', 'no progress on stderr')
    .action(async (o: AgentdojoOptions) => {
      let progress: ReplayProgress | undefined;
      // Opened before the replay: a path that cannot be written fails at once, not after minutes.
      const out = o.outcomes ? openSync(resolve(o.outcomes), 'w') : undefined;
      const report = await evalAgentdojo({
        traces: resolve(o.traces),
        config: resolve(o.config),
        ...(o.policies ? { policies: resolve(o.policies) } : {}),
        selection: { ...(o.suite ? { suites: o.suite } : {}), ...(o.sample ? { sample: o.sample } : {}), ...(o.limit ? { limit: o.limit } : {}) },
        onStart: (runs) => {
          if (o.progress) progress = new ReplayProgress(runs);
        },
        onRun: () => progress?.tick(),
        ...(out !== undefined ? { onOutcome: (row) => writeSync(out, `${JSON.stringify(row)}\n`) } : {}),
      }).finally(() => {
        if (out !== undefined) closeSync(out);
      });
      progress?.finish();
      if (g.json()) printJson(report);
      else printReport(report);
      // Numbers from a replay that did not answer as recorded are not to be trusted.
      if (report.replayErrors > 0) process.exitCode = 1;
    });
}
