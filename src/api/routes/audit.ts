import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { auditLines } from '../../audit/export/index.js';
import { taskStory } from '../../audit/replay.js';
import { parseEntry, type AuditFilter } from '../../domain/index.js';
import { WardenError } from '../../errors/warden-error.js';
import { parseInput } from '../../util/parse-input.js';
import { actorOf, requirePerson } from '../auth.js';
import type { ApiContext } from '../context.js';

/** A time as epoch milliseconds or an ISO 8601 date. */
const TimeSchema = z.union([
  z.coerce.number().int().min(0),
  z
    .string()
    .max(40)
    .transform((s, ctx) => {
      const ms = Date.parse(s);
      if (Number.isNaN(ms)) ctx.addIssue({ code: 'custom', message: 'not a time' });
      return ms;
    }),
]);

const Seq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Name = z.string().min(1).max(300);

const SearchSchema = z
  .object({
    after: z.coerce.number().int().min(-1).optional(),
    before: Seq.optional(),
    type: z.string().regex(/^[a-z_]+(\.[a-z_]+)*(\.\*)?$/).max(100).optional(),
    outcome: z.enum(['success', 'denied', 'failure']).optional(),
    agent: Name.optional(),
    task: Name.optional(),
    person: Name.optional(),
    tool: Name.optional(),
    subject: Name.optional(),
    since: TimeSchema.optional(),
    until: TimeSchema.optional(),
    limit: z.coerce.number().int().min(1).max(10_000).optional(),
  })
  .strict();

function toFilter(q: z.infer<typeof SearchSchema>): AuditFilter {
  const { after, before, ...rest } = q;
  return {
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    ...(after !== undefined ? { afterSeq: after } : {}),
    ...(before !== undefined ? { beforeSeq: before } : {}),
  };
}

const TILE = 256;

/** `/v1/audit`: search, replay, export, checkpoints, proofs, retention. Auditors and admins. */
export function auditRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const auditors = { preHandler: requirePerson(ctx, ['admin', 'auditor']) };
  const admin = { preHandler: requirePerson(ctx, ['admin']) };

  app.get('/v1/audit/entries', auditors, async (request) => {
    const q = parseInput(SearchSchema, request.query);
    return { entries: await ctx.store.listEvents({ ...toFilter(q), limit: q.limit ?? 100 }) };
  });

  // One entry with its exact stored text and leaf hash: what an inclusion proof is about.
  app.get('/v1/audit/entries/:seq', auditors, async (request) => {
    const { seq } = parseInput(z.object({ seq: Seq }).strict(), request.params);
    const [row] = await ctx.store.auditRange(seq, seq + 1);
    if (!row) throw new WardenError('NOT_FOUND', { seq });
    return { entry: parseEntry(row.entry), text: row.entry, leafHash: row.leaf.toString('base64') };
  });

  app.get('/v1/audit/replay/:task', auditors, async (request) => {
    const { task } = parseInput(z.object({ task: Name }).strict(), request.params);
    const story = await taskStory(ctx.store, task);
    if (!story.task && story.entries.length === 0) throw new WardenError('TASK_NOT_FOUND', { task });
    return story;
  });

  // JSON Lines: each line is exactly an entry's canonical text, i.e. the bytes of its leaf.
  app.get('/v1/audit/export', auditors, async (request, reply) => {
    const q = parseInput(z.object({ after: z.coerce.number().int().min(-1).optional(), before: Seq.optional() }).strict(), request.query);
    reply.header('content-type', 'application/x-ndjson; charset=utf-8');
    reply.header('cache-control', 'no-store');
    const lines = auditLines(ctx.store, { ...(q.after !== undefined ? { afterSeq: q.after } : {}), ...(q.before !== undefined ? { beforeSeq: q.before } : {}) }, { pageSize: 5000 });
    return reply.send(Readable.from(lines, { objectMode: false }));
  });

  app.get('/v1/audit/exporters', auditors, async () => ({ exporters: ctx.exporters.map((e) => e.status()) }));

  app.get('/v1/audit/key', auditors, async () => ({ origin: ctx.audit.key.origin, vkey: ctx.audit.key.vkey }));

  app.get('/v1/audit/state', auditors, async () => {
    const [state, latest] = await Promise.all([ctx.store.auditState(), ctx.store.latestCheckpoint()]);
    return { ...state, checkpoint: latest ? { size: latest.size, time: latest.time } : null };
  });

  app.get('/v1/audit/checkpoints', auditors, async (request) => {
    const q = parseInput(z.object({ from: Seq.optional(), limit: z.coerce.number().int().min(1).max(100_000).optional() }).strict(), request.query);
    const list = await ctx.store.listCheckpoints({ ...(q.from !== undefined ? { fromSize: q.from } : {}), ...(q.limit ? { limit: q.limit } : {}) });
    return { checkpoints: list.map((c) => ({ size: c.size, time: c.time, root: c.root.toString('base64'), note: c.note })) };
  });

  app.get('/v1/audit/checkpoints/latest', auditors, async () => {
    const c = await ctx.store.latestCheckpoint();
    if (!c) throw new WardenError('NOT_FOUND', { reason: 'no checkpoint yet' });
    return { size: c.size, time: c.time, root: c.root.toString('base64'), note: c.note };
  });

  app.post('/v1/audit/checkpoints', auditors, async (request) => {
    const body = parseInput(z.object({ size: Seq.optional() }).strict(), request.body ?? {});
    const c = await ctx.audit.checkpoint(body.size);
    return { size: c.size, time: c.time, root: c.root.toString('base64'), note: c.note };
  });

  app.get('/v1/audit/proofs/inclusion', auditors, async (request) => {
    const q = parseInput(z.object({ seq: Seq, size: Seq.optional() }).strict(), request.query);
    return ctx.audit.inclusion(q.seq, q.size);
  });

  app.get('/v1/audit/proofs/consistency', auditors, async (request) => {
    const q = parseInput(z.object({ from: Seq, to: Seq }).strict(), request.query);
    return ctx.audit.consistency(q.from, q.to);
  });

  /**
   * Retention: entries below `below` leave the database. Only at a tile boundary (so the tree
   * keeps every hash proofs and verification need) and only where a signed checkpoint stands at
   * exactly `below` (so what remains verifies from it). The caller exports them first.
   */
  app.post('/v1/audit/archive', admin, async (request) => {
    const { below } = parseInput(z.object({ below: Seq }).strict(), request.body);
    const state = await ctx.store.auditState();
    if (below % TILE !== 0 || below <= state.archivedBelow) {
      throw new WardenError('INVALID_INPUT', { reason: `archive up to a multiple of ${TILE} above the current mark`, archivedBelow: state.archivedBelow });
    }
    const [cp] = await ctx.store.listCheckpoints({ fromSize: below, limit: 1 });
    if (cp?.size !== below) throw new WardenError('INVALID_INPUT', { reason: 'sign a checkpoint at exactly this size first', below });
    const removed = await ctx.store.archiveAudit(below, []);
    await ctx.events.record({ type: 'audit.archive', outcome: 'success', actor: actorOf(request), subject: null, data: { below, checkpoint: cp.size, removed } });
    return { archivedBelow: below, removed };
  });
}
