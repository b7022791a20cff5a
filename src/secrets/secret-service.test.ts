import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Actor } from '../domain/index.js';
import { AuditLog } from '../audit/audit-log.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { ManualClock } from '../util/clock.js';
import { masterKeyFrom, type MasterKey } from './master-key.js';
import { SecretService, type SecretServiceOptions } from './secret-service.js';
import { rejectsWith } from '../../test/support/rejects-with.js';

const T0 = Date.UTC(2026, 0, 1);
const ADA: Actor = { kind: 'person', id: 'prs_0123456789abcdefghijklmn' };


/** A value as a real one looks, made fresh for each test. */
const newValue = (): string => `sk_live_${randomBytes(24).toString('base64url')}`;

/** Every way the value, or something derived from it, could show up in text. */
function leaks(value: string): string[] {
  const b = Buffer.from(value);
  const sha = createHash('sha256').update(b).digest();
  return [value, b.toString('base64'), b.toString('base64url'), b.toString('hex'), sha.toString('hex'), sha.toString('base64'), sha.toString('base64url')];
}

function assertNoLeak(text: string, ...values: string[]): void {
  for (const v of values) for (const form of leaks(v)) assert.ok(!text.includes(form), 'a value (or a digest of it) leaked');
}

describe('SecretService', () => {
  let dir: string;
  let path: string;
  let store: SqliteStore;
  let clock: ManualClock;
  let events: AuditLog;
  let key: MasterKey;
  const service = (opts: SecretServiceOptions = {}, k: MasterKey = key) => new SecretService(store, events, k, clock, opts);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-secrets-'));
    path = join(dir, 'warden.db');
    store = new SqliteStore(path);
    await store.migrate();
    clock = new ManualClock(T0);
    events = new AuditLog(store, clock);
    key = masterKeyFrom(randomBytes(32), 'created');
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves the value set, and a new set replaces it at once: the old value is no longer live', async () => {
    const secrets = service();
    const [v1, v2] = [newValue(), newValue()];
    assert.deepEqual(await secrets.set('github.token', v1, ADA), { name: 'github.token', version: 1, createdAt: T0, previousVersion: null, previousLiveUntil: null });
    assert.equal(await secrets.resolve('github.token'), v1);
    clock.advance(1000);
    assert.deepEqual(await secrets.set('github.token', v2, ADA), {
      name: 'github.token',
      version: 2,
      createdAt: T0 + 1000,
      previousVersion: 1,
      previousLiveUntil: T0 + 1000,
    });
    assert.equal(await secrets.resolve('github.token'), v2);
    assert.deepEqual(await secrets.liveValues(), [v2]);
  });

  it('keeps the previous version live for the overlap of a rotation, and drops it when the overlap ends', async () => {
    // A cache that never expires by itself: the overlap must end on time regardless.
    const secrets = service({ cacheTtlMs: 24 * 3_600_000 });
    const [old, next] = [newValue(), newValue()];
    await secrets.set('crm.api-key', old, ADA);
    const change = await secrets.rotate('crm.api-key', next, { overlapSec: 60 }, ADA);
    assert.deepEqual(change, { name: 'crm.api-key', version: 2, createdAt: T0, previousVersion: 1, previousLiveUntil: T0 + 60_000 });
    assert.equal(await secrets.resolve('crm.api-key'), next);
    assert.deepEqual((await secrets.liveValues()).sort(), [old, next].sort());
    clock.advance(59_999);
    assert.deepEqual((await secrets.liveValues()).sort(), [old, next].sort());
    clock.advance(1);
    assert.deepEqual(await secrets.liveValues(), [next]);
    assert.equal(await secrets.resolve('crm.api-key'), next);
  });

  it('ends a rotation overlap early when the secret is set again', async () => {
    const secrets = service();
    const [a, b, c] = [newValue(), newValue(), newValue()];
    await secrets.set('s3.key', a, ADA);
    await secrets.rotate('s3.key', b, { overlapSec: 3600 }, ADA);
    clock.advance(1000);
    await secrets.set('s3.key', c, ADA);
    assert.deepEqual(await secrets.liveValues(), [c]);
  });

  it('lists names, versions and times, never a value', async () => {
    const secrets = service();
    const [a, b, c] = [newValue(), newValue(), newValue()];
    await secrets.set('b.token', a, ADA);
    await secrets.set('a.token', b, { kind: 'system', id: 'warden' });
    clock.advance(10);
    await secrets.rotate('a.token', c, { overlapSec: 30 }, ADA);
    const list = await secrets.list();
    assert.deepEqual(list, [
      {
        name: 'a.token',
        version: 2,
        createdAt: T0 + 10,
        createdBy: ADA,
        live: [
          { version: 2, createdAt: T0 + 10, notAfter: null },
          { version: 1, createdAt: T0, notAfter: T0 + 30_010 },
        ],
      },
      { name: 'b.token', version: 1, createdAt: T0, createdBy: ADA, live: [{ version: 1, createdAt: T0, notAfter: null }] },
    ]);
    assertNoLeak(JSON.stringify(list), a, b, c);
  });

  it('records set and rotate as events naming the secret and version, never the value or a digest of it', async () => {
    const secrets = service();
    const [a, b] = [newValue(), newValue()];
    await secrets.set('github.token', a, ADA);
    await secrets.rotate('github.token', b, { overlapSec: 90 }, ADA);
    const recorded = await store.listEvents();
    assert.deepEqual(
      recorded.map((e) => [e.type, e.subject, e.actor, e.data]),
      [
        ['secret.set', 'github.token', ADA, { name: 'github.token', version: 1 }],
        ['secret.rotate', 'github.token', ADA, { name: 'github.token', version: 2, overlapSec: 90, previousLiveUntil: T0 + 90_000 }],
      ],
    );
    assertNoLeak(JSON.stringify(recorded), a, b);
  });

  it('rejects an unknown secret with SECRET_NOT_FOUND, for resolve and for rotate', async () => {
    const secrets = service();
    await rejectsWith(secrets.resolve('nope'), 'SECRET_NOT_FOUND');
    await rejectsWith(secrets.rotate('nope', newValue(), { overlapSec: 60 }, ADA), 'SECRET_NOT_FOUND');
    assert.deepEqual(await secrets.list(), []);
    assert.deepEqual(await store.listEvents(), []);
  });

  it('refuses bad names, values and overlaps with INVALID_INPUT, without echoing them', async () => {
    const secrets = service();
    for (const name of ['', 'Upper', '.hidden', '-x', 'a/b', 'a b', 'é', 'x'.repeat(101)]) {
      await rejectsWith(secrets.set(name, newValue(), ADA), 'INVALID_INPUT');
    }
    const big = 'x'.repeat(64 * 1024 + 1);
    const twoByteChars = 'é'.repeat(32 * 1024 + 1);
    for (const value of ['', big, twoByteChars, `tok\uD800en`]) {
      const err = await rejectsWith(secrets.set('ok', value, ADA), 'INVALID_INPUT');
      if (value) assert.ok(!JSON.stringify(err.details).includes(value.slice(0, 40)));
    }
    for (const overlapSec of [-1, 1.5, 30 * 24 * 3600 + 1, Number.NaN]) {
      await secrets.set('ok', newValue(), ADA);
      await rejectsWith(secrets.rotate('ok', newValue(), { overlapSec }, ADA), 'INVALID_INPUT');
    }
    const largest = 'x'.repeat(64 * 1024);
    await secrets.set('largest', largest, ADA);
    assert.equal(await secrets.resolve('largest'), largest);
    const longest = `a${'x'.repeat(99)}`;
    await secrets.set(longest, largest, ADA);
    assert.equal(await secrets.resolve(longest), largest);
  });

  it('fails with SECRET_KEY_MISMATCH when the secrets were stored under another master key', async () => {
    const value = newValue();
    await service().set('github.token', value, ADA);
    const other = service({}, masterKeyFrom(randomBytes(32), 'env'));
    const err = await rejectsWith(other.resolve('github.token'), 'SECRET_KEY_MISMATCH');
    assert.equal(err.details?.keyId, key.keyId);
    await rejectsWith(other.liveValues(), 'SECRET_KEY_MISMATCH');
    assert.deepEqual(await other.sealedUnderOtherKeys(), ['github.token']);
    assert.deepEqual(await service().sealedUnderOtherKeys(), []);
    // Listing reads no value, so it still works.
    assert.equal((await other.list()).length, 1);
  });

  it('fails with SECRET_TAMPERED when a ciphertext is moved to another secret in the database', async () => {
    const secrets = service();
    await secrets.set('a.token', newValue(), ADA);
    await secrets.set('b.token', newValue(), ADA);
    const db = new Database(path);
    try {
      db.prepare(
        `UPDATE secrets SET (ciphertext, nonce) = (SELECT ciphertext, nonce FROM secrets WHERE name = 'b.token' AND version = 1)
         WHERE name = 'a.token' AND version = 1`,
      ).run();
    } finally {
      db.close();
    }
    await rejectsWith(service().resolve('a.token'), 'SECRET_TAMPERED');
    assert.ok((await service().resolve('b.token')).startsWith('sk_live_'));
  });

  it("sees its own changes at once, and another replica's once its cache expires", async () => {
    const here = service({ cacheTtlMs: 5000 });
    const there = service({ cacheTtlMs: 5000 });
    const [v1, v2, v3] = [newValue(), newValue(), newValue()];
    await here.set('shared', v1, ADA);
    assert.equal(await here.resolve('shared'), v1);
    await there.set('shared', v2, ADA);
    clock.advance(4999);
    assert.equal(await here.resolve('shared'), v1, 'served from the cache within its TTL');
    clock.advance(1);
    assert.equal(await here.resolve('shared'), v2);
    assert.deepEqual(await here.liveValues(), [v2]);
    await here.set('shared', v3, ADA);
    assert.equal(await here.resolve('shared'), v3);
    assert.deepEqual(await here.liveValues(), [v3]);
  });

  it('gives concurrent sets of one secret distinct versions, the last of which is current', async () => {
    const secrets = service();
    const values = Array.from({ length: 10 }, newValue);
    const changes = await Promise.all(values.map((v) => secrets.set('raced', v, ADA)));
    assert.deepEqual(changes.map((c) => c.version).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const current = await secrets.resolve('raced');
    assert.equal(current, values[changes.findIndex((c) => c.version === 10)]);
    assert.deepEqual(await secrets.liveValues(), [current]);
  });
});
