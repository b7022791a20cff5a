import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { loadCheckpointKey } from '../../audit/checkpoint-key.js';
import { parseVerifierKey, type Verifier } from '../../audit/checkpoint/index.js';
import { CompactRange } from '../../audit/merkle/index.js';
import { describeEntry, formatStory, type TaskStory } from '../../audit/replay.js';
import { StoreNodeSource } from '../../audit/store-node-source.js';
import { fileRows, storeRows } from '../../audit/verify-sources.js';
import { verifyLog, type VerifyReport } from '../../audit/verify.js';
import { loadConfigFile } from '../../config/load.js';
import type { EventRecord } from '../../domain/index.js';
import { openStore } from '../../warden.js';
import type { CliGlobals } from '../admin-client.js';
import { resolveServerOptions } from '../env.js';
import { isoTime, printJson, printRecord, printTable } from '../output.js';

const SEARCH_FLAGS = ['agent', 'task', 'person', 'tool', 'type', 'outcome', 'subject', 'since', 'until', 'after', 'before', 'limit'] as const;

/** Live count on stderr while verifying (a terminal only), so stdout keeps the report. */
function progress(total: number | null): (done: number) => void {
  if (!process.stderr.isTTY) return () => undefined;
  let last = 0;
  return (done) => {
    const now = Date.now();
    if (now - last < 100 && done !== total) return;
    last = now;
    const pct = total ? Math.min(100, Math.floor((done / total) * 100)) : null;
    const bar = pct === null ? '' : `[${'#'.repeat(Math.floor(pct / 5)).padEnd(20, '.')}] ${pct}% `;
    process.stderr.write(`\r\x1b[2Kverifying ${bar}${done.toLocaleString('en-US')}${total ? ` / ${total.toLocaleString('en-US')}` : ''} entries`);
  };
}

function printReport(report: VerifyReport, json: boolean): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
  if (json) return printJson(report);
  printRecord({ result: report.ok ? 'OK: the log matches every signed checkpoint' : 'TAMPERED or incomplete', entries: report.entries, size: report.size, 'checkpoints verified': report.checkpointsVerified });
  if (report.problems.length > 0) {
    process.stdout.write('\n');
    printTable(report.problems.map((p) => ({ ...p })), ['position', 'kind', 'detail']);
  }
}

export function auditCommands(program: Command, g: CliGlobals): void {
  const audit = program.command('audit').description('the tamper-evident audit log: search, replay, verify, export, checkpoints, proofs');

  const search = audit.command('search').description('entries by agent, task, person, tool, type (tool.* for a prefix), outcome and time');
  search.option('--agent <id>').option('--task <id>').option('--person <sub>').option('--tool <name>').option('--type <type>');
  search.option('--outcome <outcome>', 'success | denied | failure').option('--subject <id>');
  search.option('--since <time>', 'ISO time or epoch ms').option('--until <time>', 'ISO time or epoch ms');
  search.option('--after <seq>', 'entries after this seq').option('--before <seq>', 'entries before this seq').option('--limit <n>', 'at most n (default 100)');
  search.action(async (o: Record<string, string | undefined>) => {
    const q = new URLSearchParams();
    for (const f of SEARCH_FLAGS) if (o[f] !== undefined) q.set(f, o[f]!);
    const { entries } = await g.client().call<{ entries: EventRecord[] }>('GET', `/v1/audit/entries?${q}`);
    if (g.json()) return printJson(entries);
    printTable(
      entries.map((e) => ({ seq: e.seq, time: isoTime(e.time), type: e.type, outcome: e.outcome, agent: e.chain?.agent ?? (e.actor.kind === 'agent' ? e.actor.id : ''), what: describeEntry(e).slice(0, 120) })),
      ['seq', 'time', 'type', 'outcome', 'agent', 'what'],
    );
  });

  audit
    .command('replay <task>')
    .description("a task's story in order: who asked and on whose behalf, the grant, each call with its decision, approvals, results")
    .action(async (task: string) => {
      const story = await g.client().call<TaskStory>('GET', `/v1/audit/replay/${encodeURIComponent(task)}`);
      if (g.json()) return printJson(story);
      process.stdout.write(`${formatStory(story).join('\n')}\n`);
    });

  audit
    .command('export')
    .description('the log as JSON Lines: each line is exactly an entry as hashed into the tree')
    .option('--out <file>', 'write here (default stdout)')
    .option('--after <seq>', 'entries after this seq')
    .option('--before <seq>', 'entries before this seq')
    .option('--checkpoint <file>', 'also write the latest signed checkpoint here')
    .action(async (o: { out?: string; after?: string; before?: string; checkpoint?: string }) => {
      const q = new URLSearchParams();
      if (o.after) q.set('after', o.after);
      if (o.before) q.set('before', o.before);
      // The checkpoint first: every entry it covers is then in the export that follows.
      if (o.checkpoint) {
        const cp = await g.client().call<{ note: string }>('POST', '/v1/audit/checkpoints', {});
        await pipeline(Readable.from([cp.note]), createWriteStream(o.checkpoint, { mode: 0o644 }));
      }
      const body = await g.client().stream(`/v1/audit/export?${q}`);
      await pipeline(Readable.fromWeb(body as never), o.out ? createWriteStream(o.out) : process.stdout);
    });

  audit
    .command('checkpoint')
    .description('sign a checkpoint of the log now (or show the latest) and print it as a signed note')
    .option('--latest', 'show the latest without signing a new one')
    .action(async (o: { latest?: boolean }) => {
      const cp = o.latest
        ? await g.client().call<{ size: number; root: string; note: string; time: number }>('GET', '/v1/audit/checkpoints/latest')
        : await g.client().call<{ size: number; root: string; note: string; time: number }>('POST', '/v1/audit/checkpoints', {});
      if (g.json()) return printJson(cp);
      process.stdout.write(cp.note);
    });

  audit
    .command('key')
    .description("the log's verifier key (publish it: verifying an export needs it)")
    .action(async () => {
      const k = await g.client().call<{ origin: string; vkey: string }>('GET', '/v1/audit/key');
      if (g.json()) return printJson(k);
      process.stdout.write(`${k.vkey}\n`);
    });

  const proof = audit.command('proof').description('Merkle proofs (RFC 9162) served by Warden');
  proof
    .command('inclusion <seq>')
    .description('that entry <seq> is in the tree of --size entries (default: the latest checkpoint)')
    .option('--size <n>')
    .action(async (seq: string, o: { size?: string }) => {
      const p = await g.client().call('GET', `/v1/audit/proofs/inclusion?seq=${encodeURIComponent(seq)}${o.size ? `&size=${encodeURIComponent(o.size)}` : ''}`);
      printJson(p);
    });
  proof
    .command('consistency <from> <to>')
    .description('that the tree of <to> entries extends the tree of <from> entries')
    .action(async (from: string, to: string) => {
      printJson(await g.client().call('GET', `/v1/audit/proofs/consistency?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`));
    });

  audit
    .command('archive')
    .description('retention: export entries below --below to a file, then remove them from the database (a signed checkpoint keeps the rest verifiable)')
    .requiredOption('--below <seq>', 'archive entries before this seq (rounded down to a multiple of 256)')
    .requiredOption('--out <file>', 'where the archived entries go (JSON Lines)')
    .action(async (o: { below: string; out: string }) => {
      const c = g.client();
      const state = await c.call<{ size: number; archivedBelow: number }>('GET', '/v1/audit/state');
      const below = Math.floor(Math.min(Number(o.below), state.size) / 256) * 256;
      if (!Number.isSafeInteger(below) || below <= state.archivedBelow) {
        process.stderr.write(`warden: nothing to archive: entries below ${state.archivedBelow} are archived already, and the cut is rounded down to a multiple of 256\n`);
        process.exit(2);
      }
      const cp = await c.call<{ note: string }>('POST', '/v1/audit/checkpoints', { size: below });
      const body = await c.stream(`/v1/audit/export?after=${state.archivedBelow - 1}&before=${below}`);
      await pipeline(Readable.fromWeb(body as never), createWriteStream(o.out, { flags: 'wx' }));
      await pipeline(Readable.from([cp.note]), createWriteStream(`${o.out}.checkpoint`, { flags: 'wx' }));
      const lines = (await readFile(o.out, 'utf8')).split('\n').filter((l) => l !== '').length;
      if (lines !== below - state.archivedBelow) {
        process.stderr.write(`warden: the export has ${lines} entries, expected ${below - state.archivedBelow}; nothing was removed\n`);
        process.exit(1);
      }
      const done = await c.call<{ archivedBelow: number; removed: number }>('POST', '/v1/audit/archive', { below });
      if (g.json()) return printJson(done);
      process.stdout.write(`archived ${done.removed} entries below ${done.archivedBelow} to ${o.out} (checkpoint in ${o.out}.checkpoint)\n`);
    });

  audit
    .command('verify')
    .description('rebuild the Merkle tree from the entries and check it against every signed checkpoint')
    .option('--data-dir <dir>', 'verify the database of this data directory (WARDEN_DATA_DIR, default ./.warden)')
    .option('--database <url>', 'postgres://… (WARDEN_DATABASE_URL)')
    .option('--entries <file>', 'verify an export (JSON Lines) instead of a database')
    .option('--checkpoint <file>', 'a signed checkpoint to check the export against (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--key <vkey>', "the log's verifier key (repeatable); default: the data directory's", (v: string, p: string[] = []) => [...p, v])
    .option('--origin <origin>', "the log's origin (default: the key's name)")
    .action(async (o: { dataDir?: string; database?: string; entries?: string; checkpoint?: string[]; key?: string[]; origin?: string }) => {
      let verifiers: Verifier[] = (o.key ?? []).map((k) => parseVerifierKey(k));
      let report: VerifyReport;
      if (o.entries) {
        if (verifiers.length === 0) throw new Error('--key is needed to verify an export');
        const checkpoints = await Promise.all((o.checkpoint ?? []).map((f) => readFile(f, 'utf8')));
        report = await verifyLog(fileRows(o.entries), { checkpoints, verifiers, origin: o.origin ?? verifiers[0]!.name, onProgress: progress(null) });
      } else {
        const opts = resolveServerOptions({ ...(o.dataDir ? { dataDir: o.dataDir } : {}), ...(o.database ? { database: o.database } : {}) });
        const config = await loadConfigFile(join(opts.dataDir, 'warden.yaml'));
        const key = await loadCheckpointKey(join(opts.dataDir, 'keys', 'audit-checkpoint.jwk.json'), config.audit.origin, { create: false });
        if (verifiers.length === 0) verifiers = [key.verifier];
        const store = openStore(opts.dataDir, opts.databaseUrl ?? config.database.url);
        try {
          const { size, archivedBelow } = await store.auditState();
          const checkpoints = (await store.listCheckpoints({ limit: 100_000 })).map((c) => c.note);
          const start = archivedBelow > 0 ? await CompactRange.fromSource(new StoreNodeSource(store), archivedBelow) : undefined;
          report = await verifyLog(storeRows(store, archivedBelow), { checkpoints, verifiers, origin: o.origin ?? key.origin, ...(start ? { start } : {}), onProgress: progress(size - archivedBelow) });
        } finally {
          await store.close();
        }
      }
      printReport(report, g.json());
      if (!report.ok) process.exitCode = 1;
    });
}
