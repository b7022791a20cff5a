import * as assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { WardenError } from '../src/errors/warden-error.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
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
