import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { until } from '../../../test/support/eventually.js';
import { SqliteStore } from './sqlite-store.js';
import { WalCheckpointer } from './wal-checkpointer.js';

const size = (path: string): number => statSync(path).size;

describe('WAL checkpoints from a background thread', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-wal-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('copies what the store wrote into the database file, with the store checkpointing nothing itself', async () => {
    const path = join(dir, 'background.db');
    const store = new SqliteStore(path, { walCheckpoints: 'background' });
    try {
      const before = size(path);
      // The schema alone is dozens of pages, all in the WAL until someone checkpoints it.
      await store.migrate();
      assert.ok(size(`${path}-wal`) > 0);
      await until(() => size(path) > before, 'the database file took in the WAL');
    } finally {
      await store.close();
    }
  });

  it('reports a thread that cannot do its work, so the store can checkpoint inline again', async () => {
    const reasons: string[] = [];
    const c = new WalCheckpointer(join(dir, 'missing', 'nothing.db'), (r) => reasons.push(r), 10);
    await until(() => reasons.length > 0, 'the failure was reported');
    assert.equal(reasons.length, 1, 'once');
    await c.stop();
  });
});
