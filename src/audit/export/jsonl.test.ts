import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { T0, drafts, toolCall } from '../../../test/support/audit-samples.js';
import type { AuditFilter, AuditRow, EventInput } from '../../domain/index.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { parseEntry, sealEntry } from '../entry.js';
import { leafHash } from '../merkle/hash.js';
import { auditLines, exportJsonl } from './jsonl.js';

describe('JSON Lines export', () => {
  let dir: string;
  let store: SqliteStore;
  let stored: AuditRow[];
  /** The filters of every searchAudit call, to see the paging. */
  let queries: AuditFilter[];

  const append = (inputs: EventInput[]) => store.appendAudit(inputs, (d, seq) => sealEntry({ ...d, seq, time: T0 + seq }));
  const collect = async (filter: AuditFilter = {}, pageSize?: number): Promise<string[]> => {
    const lines: string[] = [];
    for await (const line of auditLines(store, filter, pageSize === undefined ? {} : { pageSize })) lines.push(line);
    return lines;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-jsonl-'));
    store = new SqliteStore(join(dir, 'warden.db'));
    await store.migrate();
    const { seq: _seq, time: _time, ...call } = toolCall;
    stored = [...(await append(drafts(5))), ...(await append([call])), ...(await append(drafts(4, 5)))];
    queries = [];
    const search = store.searchAudit.bind(store);
    store.searchAudit = (filter) => {
      queries.push(filter);
      return search(filter);
    };
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes each stored entry exactly, one per line, in seq order', async () => {
    const lines = await collect();
    assert.deepEqual(
      lines,
      stored.map((r) => `${r.entry}\n`),
    );
  });

  it('gives lines whose bytes, without the newline, hash to the stored Merkle leaves', async () => {
    const lines = await collect({}, 3);
    assert.equal(lines.length, 10);
    lines.forEach((line, i) => {
      assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
      assert.deepEqual(leafHash(Buffer.from(line.slice(0, -1), 'utf8')), stored[i]!.leaf);
      assert.equal(parseEntry(line.slice(0, -1)).seq, i);
    });
  });

  it('reads page by page, never more than a page at a time', async () => {
    await collect({}, 3);
    assert.deepEqual(
      queries.map((q) => [q.afterSeq, q.limit]),
      [
        [undefined, 3],
        [2, 3],
        [5, 3],
        [8, 3],
      ],
    );
  });

  it('honours afterSeq, beforeSeq and a limit over all pages', async () => {
    const seqs = async (filter: AuditFilter) => (await collect(filter, 2)).map((l) => parseEntry(l.slice(0, -1)).seq);
    assert.deepEqual(await seqs({ afterSeq: 3, beforeSeq: 8 }), [4, 5, 6, 7]);
    assert.deepEqual(await seqs({ afterSeq: 1, limit: 3 }), [2, 3, 4]);
    assert.deepEqual(await seqs({ limit: 0 }), []);
  });

  it('applies the search filter', async () => {
    const lines = await collect({ type: 'tool.*' });
    assert.deepEqual(lines, [`${stored[5]!.entry}\n`]);
  });

  it('exportJsonl awaits the sink for each line and reports the count and last seq', async () => {
    const out: string[] = [];
    const result = await exportJsonl(store, { afterSeq: 6 }, async (line) => {
      await new Promise<void>((r) => setImmediate(r));
      out.push(line);
    });
    assert.deepEqual(result, { count: 3, lastSeq: 9 });
    assert.equal(out.join(''), stored.slice(7).map((r) => `${r.entry}\n`).join(''));
    assert.deepEqual(await exportJsonl(store, { afterSeq: 9 }, () => assert.fail('nothing to write')), { count: 0, lastSeq: null });
  });
});
