import { canonicalJson } from '../util/canonical-digest.js';
import { CheckpointError, verifyCheckpoint, type Verifier } from './checkpoint/index.js';
import { searchColumns } from './entry.js';
import { CompactRange, leafHash } from './merkle/index.js';
import { parseEntry, type EventRecord } from '../domain/index.js';

/** One entry as a verifier reads it: its position in the log and its text; stored extras if any. */
export interface VerifyRow {
  /** Where the entry sits: the database's seq, or the line's position in an export. */
  readonly position: number;
  readonly text: string;
  /** The leaf hash recorded when the entry was appended (database only). */
  readonly leaf?: Buffer;
  /** The search columns stored beside the entry (database only). */
  readonly columns?: { type: string; outcome: string; agent: string | null; task: string | null; person: string | null; tool: string | null; time: number };
}

export type ProblemKind = 'changed' | 'removed' | 'reordered' | 'truncated' | 'root_mismatch' | 'bad_checkpoint' | 'unverifiable';

/** Something verification found wrong, at a position of the log (or a checkpoint's size). */
export interface Problem {
  readonly kind: ProblemKind;
  readonly position: number;
  readonly detail: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Entries read. */
  readonly entries: number;
  /** One past the last position read (the size of the log as found). */
  readonly size: number;
  readonly checkpointsVerified: number;
  readonly problems: readonly Problem[];
}

export interface VerifyOptions {
  /** Signed checkpoints (C2SP notes), any order. */
  readonly checkpoints: readonly string[];
  readonly verifiers: readonly Verifier[];
  /** The log's origin; a checkpoint of another log is a problem. */
  readonly origin?: string;
  /** Where the entries start (the retention mark) and the frontier of what came before it. */
  readonly start?: CompactRange;
  /** Reports progress every few thousand entries. */
  readonly onProgress?: (done: number) => void;
  /** Stops listing problems after this many (default 100); counting goes on. */
  readonly maxProblems?: number;
}

/**
 * Rebuilds the Merkle tree from the entries and checks it against every signed checkpoint.
 *
 * What each kind of tampering looks like here:
 * - a changed entry: its text no longer hashes to the leaf recorded at append time, is not
 *   canonical JSON, disagrees with its search columns — and in any case the roots of all later
 *   checkpoints stop matching;
 * - a removed entry: a gap in positions (and later roots stop matching);
 * - entries inserted or reordered: an entry whose own `seq` is not its position;
 * - a truncated tail: a checkpoint signed for more entries than the log holds.
 * Checkpoints are verified against the given keys before their roots are trusted. Entries after
 * the newest checkpoint are checked one by one but no signature covers them yet.
 */
export async function verifyLog(rows: AsyncIterable<VerifyRow>, opts: VerifyOptions): Promise<VerifyReport> {
  const problems: Problem[] = [];
  const max = opts.maxProblems ?? 100;
  let count = 0;
  const report = (p: Problem) => {
    count++;
    if (problems.length < max) problems.push(p);
  };

  const roots = new Map<number, Buffer>();
  let verified = 0;
  for (const note of opts.checkpoints) {
    try {
      const cp = verifyCheckpoint(note, opts.verifiers, opts.origin);
      roots.set(cp.size, Buffer.from(cp.root));
      verified++;
    } catch (err) {
      const size = /\n(\d+)\n/.exec(note)?.[1];
      report({ kind: 'bad_checkpoint', position: size ? Number(size) : -1, detail: err instanceof CheckpointError ? err.code : 'unreadable checkpoint' });
    }
  }

  const range = opts.start ?? new CompactRange();
  let expected = range.size;
  let intact = true;
  let entries = 0;
  const check = () => {
    const root = roots.get(range.size);
    if (root && intact && !root.equals(range.root())) {
      report({ kind: 'root_mismatch', position: range.size, detail: `the first ${range.size} entries differ from what checkpoint ${range.size} signed` });
    }
  };
  if (range.size > 0) check();

  for await (const row of rows) {
    entries++;
    if (row.position !== expected) {
      if (row.position > expected) {
        report({ kind: 'removed', position: expected, detail: `entries ${expected}..${row.position - 1} are missing` });
        intact = false;
      } else {
        report({ kind: 'reordered', position: row.position, detail: 'position repeats or goes backwards' });
      }
      expected = row.position;
    }
    const problem = entryProblem(row);
    if (problem) report({ kind: problem.kind, position: row.position, detail: problem.detail });
    if (intact) {
      range.append(leafHash(Buffer.from(row.text, 'utf8')));
      check();
    }
    expected++;
    if (entries % 5000 === 0) opts.onProgress?.(entries);
  }
  opts.onProgress?.(entries);

  for (const size of [...roots.keys()].sort((a, b) => a - b)) {
    if (size > expected) report({ kind: 'truncated', position: expected, detail: `the log ends at ${expected} but checkpoint ${size} was signed for ${size} entries` });
    else if (!intact && size > (opts.start?.size ?? 0) && size <= expected) {
      report({ kind: 'unverifiable', position: size, detail: `checkpoint ${size} cannot be confirmed: entries before it are missing` });
    }
  }
  return { ok: count === 0, entries, size: expected, checkpointsVerified: verified, problems };
}

function entryProblem(row: VerifyRow): { kind: ProblemKind; detail: string } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(row.text);
  } catch {
    return { kind: 'changed', detail: 'the entry is not JSON' };
  }
  if (canonicalJson(parsed) !== row.text) return { kind: 'changed', detail: 'the entry is not in canonical form (RFC 8785)' };
  const seq = (parsed as { seq?: unknown }).seq;
  if (seq !== row.position) return { kind: 'reordered', detail: `the entry says it is #${String(seq)}` };
  if (row.leaf && !row.leaf.equals(leafHash(Buffer.from(row.text, 'utf8')))) return { kind: 'changed', detail: 'the entry differs from what was appended' };
  if (row.columns) {
    let record: EventRecord;
    try {
      record = parseEntry(row.text);
    } catch {
      return { kind: 'changed', detail: 'the entry does not have the shape of an entry' };
    }
    const want = { ...searchColumns(record), type: record.type, outcome: record.outcome, time: record.time };
    const bad = (Object.keys(want) as (keyof typeof want)[]).filter((k) => want[k] !== row.columns![k]);
    if (bad.length > 0) return { kind: 'changed', detail: `the stored ${bad.join(', ')} disagree with the entry` };
  }
  return null;
}
