import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AuditLog } from '../../audit/audit-log.js';
import { AuditService } from '../../audit/audit-service.js';
import { loadCheckpointKey } from '../../audit/checkpoint-key.js';
import { sealEntry } from '../../audit/entry.js';
import { storeRows } from '../../audit/verify-sources.js';
import { verifyLog } from '../../audit/verify.js';
import type { EventInput } from '../../domain/index.js';
import type { EventDraft } from '../../events/event-log.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { systemClock } from '../../util/clock.js';
import type { BenchContext, Row, Section } from '../section.js';
import { Samples } from '../stats.js';

/** A tool.call intent as the gateway writes it: the most common entry (also the gateway floor's). */
export function draft(i: number): EventDraft {
  return {
    type: 'tool.call',
    outcome: 'success',
    actor: { kind: 'agent', id: 'agt_0123456789abcdefghijklmn' },
    subject: 'tsk_0123456789abcdefghijklmn',
    chain: {
      person: { sub: 'prs_0123456789abcdefghijklmn', iss: 'http://127.0.0.1:7070' },
      agent: 'agt_0123456789abcdefghijklmn',
      agentKey: 'x9vQ1dKQf6T0l0m8oYpW5c1hKqU2rU7bq3lJ0nSg1yA',
      task: 'tsk_0123456789abcdefghijklmn',
      tool: 'github.get',
      decision: { effect: 'allow', policies: ['default-low-risk'], revision: 'r-3f2a9c' },
      argsDigest: `arg${String(i).padStart(40, '0')}`,
    },
    data: { via: 'http', bytesOut: 0, request: { method: 'GET', path: `/repos/acme/issues/${i}` } },
  };
}

// Shaped like audit_log: the same columns and no secondary index (on SQLite the log's search
// indexes are filled behind it in batches, not by each append).
const PLAIN_TABLE = `CREATE TABLE plain_log (
  seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, type TEXT NOT NULL, outcome TEXT NOT NULL,
  agent TEXT, task TEXT, person TEXT, tool TEXT, entry TEXT NOT NULL, leaf BLOB NOT NULL) STRICT;`;

/** Appends through AuditLog with `inFlight` recorders, for `ms`: each record resolves once committed. */
async function appendRate(log: AuditLog, inFlight: number, ms: number, from: number): Promise<{ ops: number; seconds: number; latency: ReturnType<Samples['summarize']> }> {
  let ops = 0;
  const samples = new Samples();
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await log.record(draft(from + ops++));
        samples.push(performance.now() - s);
      }
    }),
  );
  return { ops, seconds: (performance.now() - start) / 1000, latency: samples.summarize() };
}

/** The same rows, sealed beforehand, inserted one statement (one commit) at a time. */
function plainRate(db: Database.Database, ms: number, from: number): { ops: number; seconds: number } {
  const insert = db.prepare('INSERT INTO plain_log (seq, time, type, outcome, agent, task, person, tool, entry, leaf) VALUES (@seq, @time, @type, @outcome, @agent, @task, @person, @tool, @entry, @leaf)');
  const rows = Array.from({ length: 20_000 }, (_, i) => sealEntry({ ...(draft(i) as EventInput), seq: 0, time: Date.now() }));
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 64; i++) {
      insert.run({ ...rows[(from + ops) % rows.length]!, seq: from + ops });
      ops++;
    }
  }
  return { ops, seconds: (performance.now() - start) / 1000 };
}

async function withStore<T>(durability: 'process' | 'fsync', fn: (store: SqliteStore, db: Database.Database, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-bench-audit-'));
  const path = join(dir, 'warden.db');
  const store = new SqliteStore(path, { durability });
  await store.migrate();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(durability === 'fsync' ? 'synchronous = FULL' : 'synchronous = NORMAL');
  db.exec(PLAIN_TABLE);
  try {
    return await fn(store, db, dir);
  } finally {
    db.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The audit log: appends with the durability guarantee (group commit) next to plain inserts of
 * the same rows into the same database; verification; proofs at a million entries.
 */
export const audit: Section = {
  name: 'audit',
  title: 'Audit log: durable appends, verification, proofs',
  notes: [
    'append: AuditLog.record() with 64 recorders in flight; each resolves only once its entry is committed (group commit). Plain: the same rows, sealed beforehand, one INSERT (one commit) each, into a table shaped like the log (same columns, no secondary index: its search indexes are filled behind it in batches) in the same database.',
    'process = SQLite WAL synchronous=NORMAL (survives a killed process); fsync = synchronous=FULL (survives power loss), for both the log and its plain baseline.',
    'verify: warden audit verify over the whole log (parse, canonical check, leaf hash, columns, tree); baseline: reading the same rows.',
    'proofs: at the log size shown, over tiles of 256; sizes are bytes of hashes; baseline: reading one entry by seq.',
  ],
  async run(ctx: BenchContext): Promise<Row[]> {
    const rows: Row[] = [];
    const ms = ctx.durations.inProcessMs;
    for (const durability of ['process', 'fsync'] as const) {
      await withStore(durability, async (store, db) => {
        ctx.progress.start(`plain inserts (${durability})`, ms);
        const plain = plainRate(db, ms, 0);
        ctx.progress.finish(`${Math.round(plain.ops / plain.seconds)}/s`);
        const plainId = `audit.append.plain.${durability}`;
        rows.push({ id: plainId, label: `plain INSERT per row (${durability})`, kind: 'baseline', unit: 'entries/s', rate: plain.ops / plain.seconds, ops: plain.ops, seconds: plain.seconds });
        ctx.progress.start(`AuditLog appends (${durability})`, ms);
        const log = new AuditLog(store, systemClock);
        const a = await appendRate(log, 64, ms, 0);
        await log.drain();
        ctx.progress.finish(`${Math.round(a.ops / a.seconds)}/s`);
        rows.push({ id: `audit.append.${durability}`, label: `durable append, group commit (${durability})`, kind: 'measured', unit: 'entries/s', rate: a.ops / a.seconds, ops: a.ops, seconds: a.seconds, latencyMs: a.latency, vs: [plainId] });
      });
    }

    const size = ctx.durations.auditEntries;
    await withStore('process', async (store, _db, dir) => {
      ctx.progress.start(`filling the log to ${size.toLocaleString('en-US')} entries`, 0);
      const time = Date.now();
      for (let i = 0; i < size; i += 10_000) {
        const batch = Array.from({ length: Math.min(10_000, size - i) }, (_, j) => draft(i + j) as EventInput);
        await store.appendAudit(batch, (d, seq) => sealEntry({ ...d, seq, time }));
        ctx.progress.status(`${(i + batch.length).toLocaleString('en-US')} entries`);
      }
      const key = await loadCheckpointKey(join(dir, 'audit.jwk.json'), 'bench.warden/audit');
      const service = new AuditService(store, systemClock, key);
      const c0 = performance.now();
      const cp = await service.checkpoint();
      const checkpointSec = (performance.now() - c0) / 1000;
      ctx.progress.finish(`checkpoint of ${cp.size} entries signed in ${checkpointSec.toFixed(1)} s`);
      rows.push({ id: 'audit.checkpoint.first', label: `first checkpoint (hash ${size.toLocaleString('en-US')} entries into tiles)`, kind: 'measured', unit: 'entries/s', rate: size / checkpointSec, ops: size, seconds: checkpointSec, vs: ['audit.read'] });

      ctx.progress.start('reading every row', 0);
      const r0 = performance.now();
      let read = 0;
      for await (const _row of storeRows(store, 0)) read++;
      const readSec = (performance.now() - r0) / 1000;
      ctx.progress.finish(`${Math.round(read / readSec)}/s`);
      rows.push({ id: 'audit.read', label: 'read every row (baseline)', kind: 'baseline', unit: 'entries/s', rate: read / readSec, ops: read, seconds: readSec });

      ctx.progress.start('verifying', 0);
      const v0 = performance.now();
      const report = await verifyLog(storeRows(store, 0), { checkpoints: [cp.note], verifiers: [key.verifier], origin: key.origin, onProgress: (n) => ctx.progress.status(`${n.toLocaleString('en-US')} entries`) });
      const verifySec = (performance.now() - v0) / 1000;
      if (!report.ok) throw new Error('the bench log did not verify');
      ctx.progress.finish(`${Math.round(report.entries / verifySec)}/s`);
      rows.push({ id: 'audit.verify', label: 'verify the whole log', kind: 'measured', unit: 'entries/s', rate: report.entries / verifySec, ops: report.entries, seconds: verifySec, vs: ['audit.read'] });

      const n = 200;
      const pick = (i: number) => Math.floor(((i * 2654435761) % 4294967296) / 4294967296 * size);
      const timeEach = async (fn: (i: number) => Promise<unknown>) => {
        const samples = new Samples();
        const t0 = performance.now();
        for (let i = 0; i < n; i++) {
          const s = performance.now();
          await fn(i);
          samples.push(performance.now() - s);
        }
        return { seconds: (performance.now() - t0) / 1000, latency: samples.summarize() };
      };
      const one = await timeEach((i) => store.auditRange(pick(i), pick(i) + 1));
      rows.push({ id: 'audit.entry.read', label: 'read one entry by seq (baseline)', kind: 'baseline', unit: 'op/s', rate: n / one.seconds, ops: n, seconds: one.seconds, latencyMs: one.latency });
      let inclusionBytes = 0;
      const inc = await timeEach(async (i) => {
        inclusionBytes = Math.max(inclusionBytes, (await service.inclusion(pick(i), size)).proof.length * 32);
      });
      rows.push({ id: 'audit.proof.inclusion', label: `inclusion proof at ${size.toLocaleString('en-US')} (max ${inclusionBytes} B)`, kind: 'measured', unit: 'op/s', rate: n / inc.seconds, ops: n, seconds: inc.seconds, latencyMs: inc.latency, vs: ['audit.entry.read'] });
      let consistencyBytes = 0;
      const con = await timeEach(async (i) => {
        consistencyBytes = Math.max(consistencyBytes, (await service.consistency(Math.max(1, pick(i)), size)).proof.length * 32);
      });
      rows.push({ id: 'audit.proof.consistency', label: `consistency proof to ${size.toLocaleString('en-US')} (max ${consistencyBytes} B)`, kind: 'measured', unit: 'op/s', rate: n / con.seconds, ops: n, seconds: con.seconds, latencyMs: con.latency, vs: ['audit.entry.read'] });
    });
    return rows;
  },
};
