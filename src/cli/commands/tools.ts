import type { Command } from 'commander';
import type { CliGlobals } from '../admin-client.js';
import { isoTime, printJson, printRecord, printTable } from '../output.js';
import { lineDiff } from '../../util/line-diff.js';

interface ToolRow {
  name: string;
  status: string;
  listed: string;
  offered: boolean;
  digest: string;
  pendingDigest: string | null;
  firstSeenAt: number;
  acceptedAt: number;
  acceptedBy: string | null;
  risk?: string;
}

interface ToolDetail extends ToolRow {
  definition: Record<string, unknown>;
  pendingDefinition: Record<string, unknown> | null;
  changed: string[];
  changedAt: number | null;
}

const pretty = (v: unknown): string => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v, null, 2));

export function toolCommands(program: Command, g: CliGlobals): void {
  const tools = program.command('tools').description('upstream MCP tools as pinned, and the review of their changes');

  tools
    .command('list')
    .description('every pinned tool: offered, withheld for a change, or no longer listed')
    .action(async () => {
      const res = await g.client().call<{ tools: ToolRow[] }>('GET', '/v1/tools');
      if (g.json()) return printJson(res.tools);
      printTable(
        res.tools.map((t) => ({
          ...t,
          state: t.offered ? 'offered' : t.status === 'changed' && t.listed === 'changed' ? 'WITHHELD (changed)' : t.listed === 'absent' ? 'not listed' : t.listed === 'unknown' ? 'not started' : t.status,
          risk: t.risk ?? '',
          'first seen': isoTime(t.firstSeenAt),
        })),
        ['name', 'state', 'risk', 'first seen'],
      );
    });

  tools
    .command('diff <tool>')
    .description('what changed in a withheld tool: the pinned definition against the one its upstream offers now')
    .action(async (name: string) => {
      const { tool } = await g.client().call<{ tool: ToolDetail }>('GET', `/v1/tools/${encodeURIComponent(name)}`);
      if (g.json()) return printJson(tool);
      printRecord({
        tool: tool.name,
        status: tool.status,
        pinned: tool.digest,
        pending: tool.pendingDigest,
        'changed at': tool.changedAt === null ? null : isoTime(tool.changedAt),
        'accepted at': isoTime(tool.acceptedAt),
        'accepted by': tool.acceptedBy ?? '(first seen)',
      });
      if (!tool.pendingDefinition) {
        process.stdout.write('\nno pending change\n');
        return;
      }
      for (const field of tool.changed) {
        process.stdout.write(`\n${field}:\n`);
        const lines = lineDiff(pretty(tool.definition[field]), pretty(tool.pendingDefinition[field]));
        process.stdout.write(`${lines.map((l) => `  ${l}`).join('\n')}\n`);
      }
      process.stdout.write(`\nto accept exactly this change:\n  warden tools accept ${tool.name} --digest ${tool.pendingDigest}\n`);
    });

  tools
    .command('accept <tool>')
    .description('accept the reviewed change (the digest shown by `tools diff`): the tool is offered again')
    .requiredOption('--digest <digest>', 'the pending digest you reviewed; a newer change is refused')
    .action(async (name: string, o: { digest: string }) => {
      const { tool } = await g.client().call<{ tool: ToolDetail }>('POST', `/v1/tools/${encodeURIComponent(name)}/accept`, { digest: o.digest });
      if (g.json()) return printJson(tool);
      process.stdout.write(`accepted ${tool.name} (${tool.digest})\n`);
    });
}
