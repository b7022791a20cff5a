import type { Command } from 'commander';
import type { CliGlobals } from '../admin-client.js';
import { isoTime, printJson, printRecord, printTable } from '../output.js';


export function taskCommands(program: Command, g: CliGlobals): void {
  const task = program.command('task').description('tasks: units of authorized work');

  task
    .command('list')
    .option('--agent <id>', 'only this agent (agt_…)')
    .option('--status <status>', 'active | completed | revoked')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (o) => {
      const q = new URLSearchParams({ limit: o.limit });
      if (o.agent) q.set('agent', o.agent);
      if (o.status) q.set('status', o.status);
      const { tasks } = await g.client().call<{ tasks: Record<string, unknown>[] }>('GET', `/v1/tasks?${q}`);
      if (g.json()) return printJson(tasks);
      printTable(
        tasks.map((t) => ({ ...t, agent: t.agentId, created: isoTime(t.createdAt), expires: isoTime(t.expiresAt), scope: (t.scope as string[]).join(' ') })),
        ['id', 'agent', 'status', 'created', 'expires', 'scope'],
      );
    });

  task.command('show <task>').action(async (id: string) => {
    const { task: t } = await g.client().call<{ task: Record<string, unknown> }>('GET', `/v1/tasks/${encodeURIComponent(id)}`);
    if (g.json()) return printJson(t);
    printRecord({ ...t, createdAt: isoTime(t.createdAt), expiresAt: isoTime(t.expiresAt), endedAt: t.endedAt ? isoTime(t.endedAt) : null });
  });

  task
    .command('revoke <task>')
    .description('end a task now: its tokens stop working on the next request')
    .option('--reason <text>', 'why, for the record')
    .action(async (id: string, o: { reason?: string }) => {
      const { task: t } = await g.client().call<{ task: Record<string, unknown> }>('POST', `/v1/tasks/${encodeURIComponent(id)}/revoke`, o.reason ? { reason: o.reason } : {});
      if (g.json()) return printJson(t);
      process.stdout.write(`Task ${t.id} is ${t.status}\n`);
    });

  program
    .command('token')
    .description('access tokens')
    .command('revoke <jti>')
    .description('revoke one access token by its jti')
    .option('--reason <text>', 'why, for the record')
    .action(async (jti: string, o: { reason?: string }) => {
      const res = await g.client().call('POST', '/v1/tokens/revoke', { jti, ...(o.reason ? { reason: o.reason } : {}) });
      if (g.json()) return printJson(res);
      process.stdout.write(`Token ${jti} revoked\n`);
    });
}
