import type { Command } from 'commander';
import { runDemo } from '../../demo/run-demo.js';

export function demoCommands(program: Command): void {
  program
    .command('demo')
    .description('run Warden with real MCP servers and an example agent: allowed, denied, held and approved calls, a stolen token, a redacted secret, the audit trail')
    .option('--keep', 'keep the throwaway data directory')
    .action(async (o: { keep?: boolean }) => {
      process.exitCode = await runDemo({ keep: Boolean(o.keep) });
    });
}
