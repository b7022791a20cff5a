import type { Command } from 'commander';
import type { CliGlobals } from '../admin-client.js';
import { isoTime, printJson, printRecord, printTable } from '../output.js';


/** An approval as the API returns it; the CLI only reads it. */
interface ApprovalView {
  id: string;
  agentId: string;
  taskId: string;
  action: string;
  argsDigest: string;
  args: Record<string, unknown>;
  required: number;
  requester: string | null;
  selfApproval: boolean;
  policies: string[];
  status: string;
  createdAt: number;
  expiresAt: number;
  resolvedAt: number | null;
  decisions: { personId: string; decision: string; comment: string | null; at: number }[];
}

const approvedCount = (a: ApprovalView): string => `${a.decisions.filter((d) => d.decision === 'approve').length}/${a.required}`;

/** The whole approval, with the exact call spelled out: people approve what they read here. */
function showApproval(a: ApprovalView): void {
  printRecord({
    id: a.id,
    status: a.status,
    action: a.action,
    agent: a.agentId,
    task: a.taskId,
    approvals: `${approvedCount(a)} needed${a.selfApproval ? ' (the requester may approve)' : ''}`,
    requester: a.requester,
    policies: a.policies.join(' '),
    digest: a.argsDigest,
    created: isoTime(a.createdAt),
    expires: isoTime(a.expiresAt),
    resolved: a.resolvedAt === null ? null : isoTime(a.resolvedAt),
  });
  process.stdout.write(`\narguments:\n${JSON.stringify(a.args, null, 2).replace(/^/gm, '  ')}\n`);
  process.stdout.write('\ndecisions:\n');
  printTable(
    a.decisions.map((d) => ({ ...d, person: d.personId, at: isoTime(d.at) })),
    ['person', 'decision', 'at', 'comment'],
  );
}

export function approvalCommands(program: Command, g: CliGlobals): void {
  const approvals = program.command('approvals').description('calls held for human approval');

  approvals
    .command('list')
    .option('--status <status>', 'pending | approved | denied | expired | consumed')
    .option('--task <id>', 'only this task (tsk_…)')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (o: { status?: string; task?: string; limit: string }) => {
      const q = new URLSearchParams({ limit: o.limit });
      if (o.status) q.set('status', o.status);
      if (o.task) q.set('task', o.task);
      const res = await g.client().call<{ approvals: ApprovalView[] }>('GET', `/v1/approvals?${q}`);
      if (g.json()) return printJson(res.approvals);
      const rows = res.approvals.map((a) => ({
        ...a,
        agent: a.agentId,
        task: a.taskId,
        approvals: approvedCount(a),
        created: isoTime(a.createdAt),
        expires: isoTime(a.expiresAt),
      }));
      printTable(rows, ['id', 'status', 'action', 'approvals', 'agent', 'task', 'created', 'expires']);
    });

  approvals
    .command('show <approval>')
    .description('the held call: action, exact arguments, policies, decisions')
    .action(async (id: string) => {
      const { approval } = await g.client().call<{ approval: ApprovalView }>('GET', `/v1/approvals/${encodeURIComponent(id)}`);
      if (g.json()) return printJson(approval);
      showApproval(approval);
    });

  for (const decision of ['approve', 'deny'] as const) {
    approvals
      .command(`${decision} <approval>`)
      .description(decision === 'approve' ? 'accept the held call, exactly as shown by `show`' : 'refuse the held call (one denial ends it)')
      .option('--comment <text>', 'why, for the record')
      .action(async (id: string, o: { comment?: string }) => {
        const { approval } = await g
          .client()
          .call<{ approval: ApprovalView }>('POST', `/v1/approvals/${encodeURIComponent(id)}/${decision}`, o.comment ? { comment: o.comment } : {});
        if (g.json()) return printJson(approval);
        process.stdout.write(`Approval ${approval.id} of ${approval.action} is ${approval.status} (${approvedCount(approval)} approvals)\n`);
      });
  }
}
