import * as assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { WardenError } from '../src/errors/warden-error.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite/migrations.js';
import { sealEntry } from '../src/audit/entry.js';
import type { AuditFilter, EventInput } from '../src/domain/index.js';
import { until } from './support/eventually.js';
import { storeContract, type RawAccess, type StoreHandle } from './store-contract.js';

interface SqliteHandle extends StoreHandle {
  path: string;
}

/** Opens the store's file with a connection of its own, as someone editing it by hand would. */
function withFile(h: SqliteHandle, fn: (db: Database.Database) => void): Promise<void> {
  const db = new Database(h.path);
  try {
    fn(db);
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  } finally {
    db.close();
  }
}

const raw: RawAccess<SqliteHandle> = {
  corruptAgentCapabilities: (h, id) => withFile(h, (db) => db.prepare("UPDATE agents SET capabilities = 'not json' WHERE id = ?").run(id)),
  updateEvent: (h, seq) => withFile(h, (db) => db.prepare("UPDATE audit_log SET outcome = 'failure' WHERE seq = ?").run(seq)),
  deleteEvent: (h, seq) => withFile(h, (db) => db.prepare('DELETE FROM audit_log WHERE seq = ?').run(seq)),
  insertLegacyEvent: (h, seq, time) =>
    withFile(h, (db) =>
      db
        .prepare(`INSERT INTO events (seq, time, type, outcome, actor, subject, data) VALUES (?, ?, 'agent.register', 'success', '{"kind":"system","id":"warden"}', NULL, ?)`)
        .run(seq, time, JSON.stringify({ n: seq })),
    ),
  recordSchemaVersion: (h, version) =>
    withFile(h, (db) =>
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from a newer Warden', 0)").run(version),
    ),
  corruptApprovalArgs: (h, id) => withFile(h, (db) => db.prepare("UPDATE approvals SET args = '[1, 2]' WHERE id = ?").run(id)),
  corruptSecretKeyId: (h, name, version) =>
    withFile(h, (db) => db.prepare("UPDATE secrets SET key_id = 'not a key id' WHERE name = ? AND version = ?").run(name, version)),
};

storeContract(
  'SqliteStore',
  async (): Promise<SqliteHandle> => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-sqlite-'));
    const path = join(dir, 'warden.db');
    const store = new SqliteStore(path);
    return {
      store,
      path,
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  raw,
);

describe('SqliteStore without its file', () => {
  it('fails with STORE_UNAVAILABLE when the file cannot be opened', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-sqlite-'));
    try {
      assert.throws(
        () => new SqliteStore(join(dir, 'no-such-dir', 'warden.db')),
        (err: unknown) => err instanceof WardenError && err.code === 'STORE_UNAVAILABLE',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteStore audit search behind the log', () => {
  const T = 1_900_000_000_000;
  const event = (over: Partial<EventInput>): EventInput => ({
    type: 'agent.register',
    outcome: 'success',
    actor: { kind: 'person', id: 'prs_0123456789abcdefghijklmn' },
    subject: null,
    data: {},
    ...over,
  });
  const inputs: EventInput[] = [
    event({ type: 'agent.register', subject: 'agt_a' }),
    event({ type: 'tool.call', chain: { agent: 'agt_a', task: 'tsk_1', tool: 'fs.read' }, actor: { kind: 'agent', id: 'agt_a' } }),
    event({ type: 'tool.result', outcome: 'failure', chain: { agent: 'agt_a', task: 'tsk_1', tool: 'fs.read' }, actor: { kind: 'agent', id: 'agt_a' } }),
    event({ type: 'tool.call', chain: { agent: 'agt_b', task: 'tsk_2', tool: 'web.get', person: { sub: 'p1', iss: 'i' } }, actor: { kind: 'agent', id: 'agt_b' } }),
    event({ type: 'agent.suspend', subject: 'agt_a', outcome: 'denied' }),
    event({ type: 'tool.call', chain: { agent: 'agt_a', task: 'tsk_1', tool: 'web.get' }, actor: { kind: 'agent', id: 'agt_a' } }),
  ];
  const filters: AuditFilter[] = [
    {},
    { type: 'tool.*' },
    { type: 'tool.call', agent: 'agt_a' },
    { task: 'tsk_1', limit: 2 },
    { tool: 'web.get' },
    { person: 'p1' },
    { person: 'prs_0123456789abcdefghijklmn' },
    { subject: 'agt_a' },
    { outcome: 'failure' },
    { since: T + 2, until: T + 4 },
    { afterSeq: 1, limit: 3 },
    { beforeSeq: 5, agent: 'agt_a' },
  ];
  const expected: Record<string, number[]> = {
    '{}': [0, 1, 2, 3, 4, 5],
    '{"type":"tool.*"}': [1, 2, 3, 5],
    '{"type":"tool.call","agent":"agt_a"}': [1, 5],
    '{"task":"tsk_1","limit":2}': [1, 2],
    '{"tool":"web.get"}': [3, 5],
    '{"person":"p1"}': [3],
    '{"person":"prs_0123456789abcdefghijklmn"}': [0, 4],
    '{"subject":"agt_a"}': [0, 4],
    '{"outcome":"failure"}': [2],
    '{"since":1900000000002,"until":1900000000004}': [2, 3, 4],
    '{"afterSeq":1,"limit":3}': [2, 3, 4],
    '{"beforeSeq":5,"agent":"agt_a"}': [1, 2],
  };

  it('finds the same entries whether they are indexed, not yet indexed, or split at any mark', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-sqlite-'));
    const store = new SqliteStore(join(dir, 'warden.db'));
    try {
      await store.migrate();
      for (const [i, e] of inputs.entries()) await store.appendAudit([e], (d, seq) => sealEntry({ ...d, seq, time: T + i }));
      const search = async () => Object.fromEntries(await Promise.all(filters.map(async (f) => [JSON.stringify(f), (await store.searchAudit(f)).map((r) => r.seq)])));
      // Nothing indexed yet (the batch waits AUDIT_INDEX_EVERY_MS): the tail scan alone answers.
      assert.deepEqual(await search(), expected);
      for (let mark = 1; mark <= inputs.length; mark++) {
        assert.equal(store.indexAudit(1), 1);
        assert.deepEqual(await search(), expected, `indexed below ${mark}`);
      }
      assert.equal(store.indexAudit(), 0, 'nothing is indexed twice');
      // Retention removes the archived entries' search rows with them.
      await store.archiveAudit(2, []);
      assert.deepEqual((await store.searchAudit({ type: 'tool.*' })).map((r) => r.seq), [2, 3, 5]);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('indexes appended entries in the background, and what is left when it closes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-sqlite-'));
    const path = join(dir, 'warden.db');
    const marks = () => {
      const db = new Database(path, { readonly: true });
      try {
        const mark = (db.prepare('SELECT indexed_below AS m FROM audit_search_mark').get() as { m: number }).m;
        const rows = (db.prepare('SELECT count(*) AS n FROM audit_search').get() as { n: number }).n;
        return { mark, rows };
      } finally {
        db.close();
      }
    };
    let store = new SqliteStore(path);
    try {
      await store.migrate();
      await store.appendAudit(inputs.slice(0, 3), (d, seq) => sealEntry({ ...d, seq, time: T + seq }));
      await until(() => marks().mark === 3, 'the background batch indexes the appended entries');
      assert.deepEqual(marks(), { mark: 3, rows: 3 });
      await store.appendAudit(inputs.slice(3), (d, seq) => sealEntry({ ...d, seq, time: T + seq }));
      await store.close();
      assert.deepEqual(marks(), { mark: 6, rows: 6 });
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('moves the search columns of a database from before the split into the index', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-sqlite-'));
    const path = join(dir, 'warden.db');
    try {
      // A database at schema 6 with entries in it, as the Warden before this change left it.
      const db = new Database(path);
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
      for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= 6)) {
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
      }
      const insert = db.prepare('INSERT INTO audit_log (seq, time, type, outcome, agent, task, person, tool, entry, leaf) VALUES (@seq, @time, @type, @outcome, @agent, @task, @person, @tool, @entry, @leaf)');
      for (const [i, e] of inputs.entries()) insert.run(sealEntry({ ...e, seq: i, time: T + i }));
      db.close();
      const store = new SqliteStore(path);
      try {
        assert.deepEqual((await store.migrate()).applied, [7]);
        assert.equal(store.indexAudit(), 0, 'the migration indexed every entry');
        assert.deepEqual(Object.fromEntries(await Promise.all(filters.map(async (f) => [JSON.stringify(f), (await store.searchAudit(f)).map((r) => r.seq)]))), expected);
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
