import * as assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { AgentId, Approval, ApprovalId, PersonId, TaskId } from '../src/domain/index.js';
import { WardenError } from '../src/errors/warden-error.js';
import { sealEntry } from '../src/audit/entry.js';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres/migrations.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { randomId } from '../src/util/id-generator.js';
import { storeContract, type RawAccess, type StoreHandle } from './store-contract.js';
import { createTestDatabase } from './support/pg.js';

interface PgHandle extends StoreHandle {
  url: string;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const raw: RawAccess<PgHandle> = {
  corruptAgentCapabilities: async (h, id) => {
    await withClient(h.url, (c) => c.query(`UPDATE agents SET capabilities = '{"not":"a list"}'::jsonb WHERE id = $1`, [id]));
  },
  updateEvent: async (h, seq) => {
    await withClient(h.url, (c) => c.query("UPDATE audit_log SET outcome = 'failure' WHERE seq = $1", [seq]));
  },
  deleteEvent: async (h, seq) => {
    await withClient(h.url, (c) => c.query('DELETE FROM audit_log WHERE seq = $1', [seq]));
  },
  insertLegacyEvent: async (h, seq, time) => {
    await withClient(h.url, (c) =>
      c.query(
        `INSERT INTO events (seq, time, type, outcome, actor, subject, data) VALUES ($1, $2, 'agent.register', 'success', '{"kind":"system","id":"warden"}', NULL, $3)`,
        [seq, time, JSON.stringify({ n: seq })],
      ),
    );
  },
  recordSchemaVersion: async (h, version) => {
    await withClient(h.url, (c) =>
      c.query("INSERT INTO warden_schema_migrations (version, name, applied_at) VALUES ($1, 'from a newer Warden', 0)", [version]),
    );
  },
  corruptApprovalArgs: async (h, id) => {
    await withClient(h.url, (c) => c.query(`UPDATE approvals SET args = '[1, 2]'::jsonb WHERE id = $1`, [id]));
  },
  corruptSecretKeyId: async (h, name, version) => {
    await withClient(h.url, (c) => c.query("UPDATE secrets SET key_id = 'not a key id' WHERE name = $1 AND version = $2", [name, version]));
  },
};

async function makeStore(): Promise<PgHandle> {
  const db = await createTestDatabase();
  const store = new PostgresStore(db.url);
  return {
    store,
    url: db.url,
    cleanup: async () => {
      await store.close();
      await db.drop();
    },
  };
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return address.port;
}

const sampleEvent = { type: 'agent.register', outcome: 'success', actor: { kind: 'system', id: 'warden' }, subject: null, data: {} } as const;

if (!process.env.WARDEN_TEST_PG_URL) {
  if (process.env.WARDEN_TEST_SKIP_PG === '1') {
    it('PostgreSQL store tests', { skip: 'WARDEN_TEST_SKIP_PG=1' }, () => {});
  } else {
    it('needs a PostgreSQL server to test the PostgreSQL store', () => {
      assert.fail('WARDEN_TEST_PG_URL is not set: run `npm test` (it starts PostgreSQL), or set WARDEN_TEST_SKIP_PG=1 to skip on purpose');
    });
  }
} else {
  storeContract('PostgresStore', makeStore, raw);

  describe('PostgresStore shared by several replicas', () => {
    const handles: PgHandle[] = [];
    let url = '';
    /** Another replica: a second store, with a pool of its own, on the same database. */
    const replica = (): PostgresStore => {
      const store = new PostgresStore(url);
      handles.push({ store, url, cleanup: () => store.close() });
      return store;
    };
    let drop: () => Promise<void> = async () => {};

    before(async () => {
      const db = await createTestDatabase();
      url = db.url;
      drop = db.drop;
    });
    after(async () => {
      for (const h of handles) await h.cleanup();
      await drop();
    });

    it('applies each migration exactly once when two replicas migrate an empty database at once', async () => {
      const [a, b] = await Promise.all([replica().migrate(), replica().migrate()]);
      assert.deepEqual(
        [...a.applied, ...b.applied].sort((x, y) => x - y),
        POSTGRES_MIGRATIONS.map((m) => m.version),
      );
      assert.equal(a.current, b.current);
      assert.deepEqual(await replica().migrate(), { applied: [], current: a.current });
    });

    it('numbers events without gaps when two replicas append at once', async () => {
      const a = replica();
      const b = replica();
      const start = (await a.listEvents()).length;
      const records = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).appendAudit([{ ...sampleEvent, data: { i } }], (d, seq) => sealEntry({ ...d, seq, time: Date.now() })).then(([r]) => r!)),
      );
      assert.deepEqual(
        records.map((r) => r.seq).sort((x, y) => x - y),
        Array.from({ length: 30 }, (_, i) => start + i),
      );
    });

    it('lets exactly one replica remember a value that several race for', async () => {
      const stores = [replica(), replica(), replica()];
      const now = Date.now();
      const results = await Promise.all(stores.flatMap((s) => [1, 2, 3, 4].map(() => s.rememberOnce('assertion', 'raced', now + 60_000, now))));
      assert.equal(results.filter(Boolean).length, 1);
    });

    it("delivers one replica's revocation notice to another replica's listeners", async () => {
      const sender = replica();
      const receiver = replica();
      let calls = 0;
      receiver.onRevocationsChanged(() => calls++);
      // Subscribing calls the listener once the LISTEN is in place: from then on nothing is missed.
      await waitFor('the subscription', () => calls === 1);
      await sender.notifyRevocationsChanged();
      await waitFor('the notification', () => calls === 2);
    });

    it('listens again after its connection is killed, and reports the gap as a change', async () => {
      const sender = replica();
      const receiver = replica();
      let calls = 0;
      receiver.onRevocationsChanged(() => calls++);
      await waitFor('the subscription', () => calls === 1);
      const killed = await withClient(url, (c) =>
        c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'warden-listener'"),
      );
      assert.ok((killed.rowCount ?? 0) >= 1);
      await waitFor('the listener to reconnect', () => calls === 2);
      await sender.notifyRevocationsChanged();
      await waitFor('the notification after reconnecting', () => calls === 3);
    });

    it('numbers the versions of one secret without gaps or repeats when replicas write it at once', async () => {
      const stores = [replica(), replica(), replica()];
      const now = Date.now();
      const seal = (version: number) => ({ ciphertext: Buffer.alloc(32, version), nonce: Buffer.alloc(12), keyId: '0123456789abcdef' });
      const made = await Promise.all(
        stores.flatMap((s) => [1, 2, 3, 4, 5].map(() => s.insertSecretVersion({ name: 'shared.token', createdAt: now, createdBy: { kind: 'system', id: 'warden' }, previousNotAfter: now }, seal))),
      );
      assert.deepEqual(made.map((v) => v.version).sort((x, y) => x - y), Array.from({ length: 15 }, (_, i) => i + 1));
      // Each version was sealed for its own number: nothing was sealed for one and stored as another.
      for (const v of made) assert.deepEqual(Buffer.from(v.ciphertext), Buffer.alloc(32, v.version));
      assert.deepEqual((await stores[0]!.getLiveSecretVersions('shared.token', now + 1)).map((v) => v.version), [15]);
    });

    it('refuses at the database to truncate the audit log', async () => {
      const a = replica();
      await a.appendAudit([sampleEvent], (d, seq) => sealEntry({ ...d, seq, time: Date.now() }));
      await assert.rejects(withClient(url, (c) => c.query('TRUNCATE audit_log')));
      assert.ok((await a.listEvents()).length > 0);
    });

    /** An agent, `n` people, and a pending approval template for one call. */
    const approvalFixture = async (store: PostgresStore, n: number) => {
      const now = Date.now();
      const agentId = randomId('agt') as AgentId;
      await store.insertAgent(
        { id: agentId, name: `agent-${randomId('x').slice(2, 12)}`, owner: 'o', purpose: 'p', riskCategory: 'limited', status: 'active', capabilities: ['bank.*'], maxTaskLifetimeSec: 3600, createdAt: now, updatedAt: now },
        [],
      );
      const people: PersonId[] = [];
      for (let i = 0; i < n; i++) {
        const id = randomId('prs') as PersonId;
        await store.insertPerson({ id, name: `P${i}`, email: null, roles: ['approver'], status: 'active', createdAt: now });
        people.push(id);
      }
      const taskId = randomId('tsk') as TaskId;
      const approval = (): Approval => ({
        id: randomId('apr') as ApprovalId, agentId, taskId, action: 'bank.transfer', argsDigest: 'd'.repeat(43), args: { amount: 1 },
        required: 2, requester: null, selfApproval: false, policies: ['p'], status: 'pending', createdAt: now, expiresAt: now + 60_000, resolvedAt: null, decisions: [],
      });
      return { now, people, approval };
    };

    it('creates one approval when replicas hold the same call at once', async () => {
      const stores = [replica(), replica(), replica()];
      const { now, approval } = await approvalFixture(stores[0]!, 0);
      const results = await Promise.all(stores.flatMap((s) => [1, 2, 3].map(() => s.getOrInsertApproval(approval(), now))));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.approval.id)).size, 1);
    });

    it('resolves an approval exactly once when replicas decide it at once, and consumes it once', async () => {
      const stores = [replica(), replica(), replica()];
      const { now, people, approval } = await approvalFixture(stores[0]!, 9);
      const { approval: held } = await stores[0]!.getOrInsertApproval(approval(), now);
      const outcomes = await Promise.all(
        people.map((personId, i) => stores[i % 3]!.decideApproval(held.id, { personId, decision: 'approve', comment: null, at: now + 1 }, now + 1)),
      );
      assert.equal(outcomes.filter((o) => o.kind === 'recorded').length, 2);
      assert.equal(outcomes.filter((o) => o.kind === 'recorded' && o.resolved).length, 1);
      const consumed = await Promise.all(stores.flatMap((s) => [1, 2].map(() => s.consumeApproval(held.id, now + 2))));
      assert.equal(consumed.filter((c) => c.consumed).length, 1);
    });
  });

  describe('PostgresStore without a server', () => {
    it('rejects with STORE_UNAVAILABLE when nothing listens at the address', async () => {
      const store = new PostgresStore(`postgres://postgres@127.0.0.1:${await closedPort()}/warden`);
      try {
        for (const call of [() => store.migrate(), () => store.countPersons(), () => store.appendAudit([sampleEvent], (d, seq) => sealEntry({ ...d, seq, time: Date.now() }))]) {
          await assert.rejects(call(), (err: unknown) => {
            return err instanceof WardenError && err.code === 'STORE_UNAVAILABLE' && err.details?.store === 'postgres';
          });
        }
      } finally {
        await store.close();
      }
    });
  });
}
