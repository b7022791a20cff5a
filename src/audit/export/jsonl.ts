import type { AuditFilter, AuditRow } from '../../domain/index.js';
import { WardenError } from '../../errors/warden-error.js';
import type { Store } from '../../store/store.js';

export interface JsonlOptions {
  /** Entries read from the store per query (default 1,000; the store serves at most 10,000). */
  readonly pageSize?: number;
  /** Stops between pages once aborted; the generator then returns. */
  readonly signal?: AbortSignal;
}

/**
 * The stored rows matching `filter`, in `seq` order, read page by page so that memory stays
 * bounded by one page however long the log is. `afterSeq`/`beforeSeq` bound the range as in
 * `searchAudit`; `limit`, if given, caps the number of rows in all (not per page).
 */
export async function* auditRows(store: Store, filter: AuditFilter = {}, opts: JsonlOptions = {}): AsyncGenerator<AuditRow, void, undefined> {
  const pageSize = Math.min(Math.max(Math.floor(opts.pageSize ?? 1000), 1), 10_000);
  if (filter.limit !== undefined && !(filter.limit >= 0)) throw new TypeError('limit must be >= 0');
  let remaining = filter.limit ?? Infinity;
  let after = filter.afterSeq;
  while (remaining > 0 && !opts.signal?.aborted) {
    const want = Math.min(pageSize, remaining);
    const rows = await store.searchAudit({ ...filter, ...(after !== undefined ? { afterSeq: after } : {}), limit: want });
    yield* rows;
    remaining -= rows.length;
    const last = rows.at(-1);
    if (last === undefined || rows.length < want) return;
    after = last.seq;
  }
}

/**
 * The audit log as JSON Lines: each line is EXACTLY the stored canonical entry (RFC 8785 JSON,
 * format v1) followed by `\n`, in `seq` order. The bytes before the newline are the Merkle leaf
 * input (RFC 9162 §2.1.1), so an independent verifier can hash each line and rebuild the tree.
 * Selects and streams as `auditRows` does; `Readable.from(auditLines(…))` makes it a stream.
 */
export async function* auditLines(store: Store, filter: AuditFilter = {}, opts: JsonlOptions = {}): AsyncGenerator<string, void, undefined> {
  for await (const row of auditRows(store, filter, opts)) yield lineOf(row);
}

function lineOf(row: AuditRow): string {
  // Canonical JSON escapes every control character, so a raw newline means a broken row, and it
  // would split one leaf into two lines for the verifier.
  if (row.entry.includes('\n')) throw new WardenError('INTERNAL', { reason: 'stored entry has a raw newline', seq: row.seq });
  return `${row.entry}\n`;
}

/**
 * Writes the lines of `auditLines(store, filter)` to `write`, awaiting it for each line (so a
 * slow sink holds the reading back). Resolves to how many lines were written and the last
 * `seq` among them.
 */
export async function exportJsonl(
  store: Store,
  filter: AuditFilter,
  write: (line: string) => void | Promise<void>,
  opts: JsonlOptions = {},
): Promise<{ count: number; lastSeq: number | null }> {
  let count = 0;
  let lastSeq: number | null = null;
  for await (const row of auditRows(store, filter, opts)) {
    await write(lineOf(row));
    count++;
    lastSeq = row.seq;
  }
  return { count, lastSeq };
}
