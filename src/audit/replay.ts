import type { EventRecord, Task } from '../domain/index.js';
import type { Store } from '../store/store.js';

/** A task's story: the task as stored and every entry about it, in log order. */
export interface TaskStory {
  readonly task: Task | null;
  readonly entries: readonly EventRecord[];
}

/**
 * Everything the log holds about `taskId`: entries whose chain names the task (the grant and
 * the decision behind it, tokens, every call with its decision, approvals, results) and those
 * whose subject is the task (completion, revocation), merged by seq.
 */
export async function taskStory(store: Store, taskId: string, limit = 10_000): Promise<TaskStory> {
  const [task, byChain, bySubject] = await Promise.all([
    store.getTask(taskId as never),
    store.listEvents({ task: taskId, limit }),
    store.listEvents({ subject: taskId, limit }),
  ]);
  const seen = new Map<number, EventRecord>();
  for (const e of [...byChain, ...bySubject]) seen.set(e.seq, e);
  return { task, entries: [...seen.values()].sort((a, b) => a.seq - b.seq) };
}

const short = (s: string | undefined, n = 16): string => (s === undefined ? '' : s.length > n ? `${s.slice(0, n)}…` : s);

/** One line per entry, for people: what happened, who decided, and the digests that pin it down. */
export function describeEntry(e: EventRecord): string {
  const c = e.chain ?? {};
  const d = e.data as Record<string, any>;
  const parts: string[] = [];
  if (c.tool) parts.push(c.tool);
  if (c.decision) parts.push(`decision=${c.decision.effect}${c.decision.policies.length ? ` policies=${c.decision.policies.join(',')}` : ''}`);
  if (c.approvals?.length) parts.push(`approval=${c.approvals.join(',')}`);
  if (e.error) parts.push(`error=${e.error}`);
  if (typeof d.reason === 'string') parts.push(`reason="${short(d.reason, 60)}"`);
  if (e.type === 'approval.decide' && d.decision) parts.push(`${d.decision}${d.comment ? ` "${short(String(d.comment), 60)}"` : ''}`);
  if (e.type === 'task.grant') parts.push(`purpose="${short(String(d.purpose ?? ''), 60)}" scope=${(d.scope ?? []).join(',')}`);
  if (c.argsDigest && e.type === 'tool.call') parts.push(`args=${short(c.argsDigest, 12)}`);
  if (c.resultDigest) parts.push(`result=${short(c.resultDigest, 12)}`);
  if (typeof d.bytesIn === 'number') parts.push(`bytes=${d.bytesIn}`);
  if (typeof d.latencyMs === 'number') parts.push(`${d.latencyMs}ms`);
  if (Array.isArray(d.redactions) && d.redactions.length) parts.push(`redactions=${d.redactions.length}`);
  if (d.args !== undefined) parts.push(`captured args=${short(JSON.stringify(d.args), 80)}`);
  if (d.result !== undefined) parts.push(`captured result=${short(JSON.stringify(d.result), 80)}`);
  if (e.actor.kind === 'person') parts.push(`by=${e.actor.id}`);
  return parts.join(' ');
}

/** The story as lines of text: the task's header, then one line per entry. */
export function formatStory(story: TaskStory): string[] {
  const lines: string[] = [];
  const t = story.task;
  if (t) {
    lines.push(`task ${t.id} (${t.status}) for agent ${t.agentId}: "${t.purpose}"`);
    lines.push(`  on behalf of ${t.onBehalfOf ? `${t.onBehalfOf.sub} (${t.onBehalfOf.iss})` : 'no person (the agent itself)'}; scope ${t.scope.join(', ')}`);
    lines.push(`  ${new Date(t.createdAt).toISOString()} → ${new Date(t.endedAt ?? t.expiresAt).toISOString()}${t.endReason ? ` (${t.endReason})` : ''}`);
  }
  for (const e of story.entries) {
    lines.push(`#${String(e.seq).padStart(5)} ${new Date(e.time).toISOString().slice(11, 23)} ${e.type.padEnd(17)} ${e.outcome.padEnd(8)} ${describeEntry(e)}`.trimEnd());
  }
  return lines;
}
