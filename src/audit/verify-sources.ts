import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Store } from '../store/store.js';
import { auditRows } from './export/jsonl.js';
import type { VerifyRow } from './verify.js';

/**
 * The log's rows straight from the database, page by page, with their stored leaf and columns.
 * By seq, not by a range of positions: a deleted row must show up as a gap, not be skipped over.
 */
export async function* storeRows(store: Store, from: number, pageSize = 5000): AsyncGenerator<VerifyRow> {
  for await (const r of auditRows(store, { afterSeq: from - 1 }, { pageSize })) {
    yield {
      position: r.seq,
      text: r.entry,
      leaf: r.leaf,
      columns: { type: r.type, outcome: r.outcome, agent: r.agent, task: r.task, person: r.person, tool: r.tool, time: r.time },
    };
  }
}

/**
 * The entries of a JSON Lines export (one canonical entry per line, as `warden audit export`
 * writes them). A line's position is the `seq` it states, so a removed line shows as a gap and
 * swapped lines as going backwards; a line that states none follows the previous one.
 */
export async function* fileRows(path: string): AsyncGenerator<VerifyRow> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let position = -1;
  for await (const line of lines) {
    if (line === '') continue;
    let seq: unknown;
    try {
      seq = (JSON.parse(line) as { seq?: unknown }).seq;
    } catch {
      seq = undefined;
    }
    position = typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : position + 1;
    yield { position, text: line };
  }
}
