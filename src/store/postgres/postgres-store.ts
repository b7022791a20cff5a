import pg from 'pg';
import type { ClientConfig, CustomTypesConfig, PoolClient } from 'pg';
import {
  ApprovalSchema,
  ToolDefinitionSchema,
  ToolPinSchema,
  type TaskUsage,
  type ToolDefinition,
  type ToolPin,
  type Agent,
  type AgentId,
  type AgentKey,
  type AgentStatus,
  type ApiKeyId,
  type ApiKeyRecord,
  type Approval,
  type ApprovalDecision,
  type ApprovalId,
  type ApprovalStatus,
  type AuditFilter,
  type AuditNode,
  type AuditRow,
  type EventRecord,
  type PlacedEvent,
  type TaskFlow,
  type TaskFlowUpdate,
  type StoredCheckpoint,
  type Person,
  type PersonId,
  type Revocation,
  type RevocationKind,
  type SealedSecret,
  type SecretVersion,
  type SecretVersionDraft,
  type SecretVersionMeta,
  type SigningKeyRecord,
  type Task,
  type TaskId,
  type TaskStatus,
} from '../../domain/index.js';
import { WardenError } from '../../errors/warden-error.js';
import { parseRow } from '../rows.js';
import {
  sealWith,
  toAgent,
  toAgentKey,
  toApiKey,
  toAuditNode,
  toLeaf,
  toAuditRow,
  toCheckpoint,
  toEvent,
  toEventFromAudit,
  toPerson,
  toRevocation,
  toSecretVersion,
  toSecretVersionMeta,
  toSigningKey,
  toTask,
  toTaskUsage,
  toToolPin,
  type Row,
} from '../row-mappers.js';
import type { ApprovalDecideOutcome, ApprovalFilter, Store, TaskBudget } from '../store.js';
import { withinBudget } from '../budget.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';


/** The channel replicas LISTEN on for revocation changes. */
export const REVOCATIONS_CHANNEL = 'warden_revocations';

const UNIQUE_VIOLATION = '23505';
const INT8_OID = 20;
/** Session advisory lock key for migrations: ASCII "WARD", then 1 for "migrate". */
const MIGRATION_LOCK = [0x57415244, 1] as const;
/** Transaction advisory lock class for writes to one secret (second key: the name's hash); ASCII "WSEC". */
const SECRET_LOCK_CLASS = 0x57534543;
const PURGE_INTERVAL_MS = 60_000;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 10_000;

/**
 * pg hands BIGINT over as a string because it may exceed 2^53. Our BIGINTs are millisecond
 * times, counts and sequence numbers: safe ones become numbers; anything larger stays a string,
 * so the row fails its schema (INTERNAL) instead of silently losing precision. Scoped to this
 * store's connections rather than set globally on `pg.types`.
 */
const TYPES: CustomTypesConfig = {
  getTypeParser: (oid, format) => {
    if (oid !== INT8_OID || format === 'binary') return pg.types.getTypeParser(oid, format);
    return (text: string) => {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    };
  },
};

const toApproval = (r: Row): Approval =>
  parseRow(
    ApprovalSchema,
    {
      id: r.id,
      agentId: r.agent_id,
      taskId: r.task_id,
      action: r.action,
      argsDigest: r.args_digest,
      args: r.args,
      required: r.required,
      requester: r.requester,
      selfApproval: r.self_approval,
      policies: r.policies,
      status: r.status,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      resolvedAt: r.resolved_at,
      decisions: r.decisions,
    },
    'approvals',
  );

/**
 * The decisions of approval row `a`, oldest first, as one JSONB array: an approval is read in
 * one statement, also from `RETURNING` (which sees the row as the statement left it).
 */
const DECISIONS_OF_A = `(SELECT coalesce(jsonb_agg(jsonb_build_object('personId', d.person_id, 'decision', d.decision,
  'comment', d.comment, 'at', d.at) ORDER BY d.at, d.n), '[]'::jsonb) FROM approval_decisions d WHERE d.approval_id = a.id) AS decisions`;
const SELECT_APPROVAL = `SELECT a.*, ${DECISIONS_OF_A} FROM approvals a`;

/** An approval may only be stored as it starts: pending, undecided. */
function assertNewApproval(a: Approval): void {
  if (a.status !== 'pending' || a.decisions.length > 0 || a.resolvedAt !== null) {
    throw new TypeError('getOrInsertApproval() takes a pending approval without decisions');
  }
}

/** Maps driver errors to domain errors; SQL values stay in `cause` (server log), never in details. */
function toStoreError(err: unknown): WardenError {
  if (err instanceof WardenError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  if (code === UNIQUE_VIOLATION) return new WardenError('CONFLICT', undefined, { cause: err });
  return new WardenError('STORE_UNAVAILABLE', { store: 'postgres' }, { cause: err });
}

const json = (value: unknown): string => JSON.stringify(value);

const INSERT_AGENT_KEY =
  'INSERT INTO agent_keys (jkt, agent_id, jwk, alg, status, created_at, retired_at) VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)';
const agentKeyParams = (k: AgentKey): unknown[] => [k.jkt, k.agentId, json(k.jwk), k.alg, k.status, k.createdAt, k.retiredAt];

/**
 * The scale-out store: one PostgreSQL database shared by several Warden replicas. Every write
 * that must not interleave across replicas is serialized inside the database (advisory locks,
 * table locks, `ON CONFLICT`), never in this process.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly config: ClientConfig;
  private readonly pool: pg.Pool;
  private readonly listeners = new Set<() => void>();
  private listener: NotificationListener | undefined;
  private closing: Promise<void> | undefined;
  private nextPurgeAt = Number.NEGATIVE_INFINITY;

  /** @param connectionString a libpq-style URL, e.g. `postgres://warden@db:5432/warden`. */
  constructor(connectionString: string) {
    // Without a connect timeout a black-holed server would hang every call instead of failing.
    this.config = { connectionString, types: TYPES, connectionTimeoutMillis: 10_000, application_name: 'warden' };
    this.pool = new pg.Pool(this.config);
    // An idle pooled connection that dies (server restart) is dropped by the pool; the next call
    // reconnects or rejects with STORE_UNAVAILABLE. Unhandled, this event would crash the process.
    this.pool.on('error', () => {});
  }

  private async query(sql: string, params: unknown[] = []): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, params)).rows;
    } catch (err) {
      throw toStoreError(err);
    }
  }

  /** Runs a write and resolves to how many rows it changed. */
  private async execute(sql: string, params: unknown[]): Promise<number> {
    try {
      return (await this.pool.query(sql, params)).rowCount ?? 0;
    } catch (err) {
      throw toStoreError(err);
    }
  }

  private async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw toStoreError(err);
    }
  }

  private async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw toStoreError(err);
    } finally {
      client.release(broken);
    }
  }

  async migrate(): Promise<{ applied: number[]; current: number }> {
    const client = await this.connect();
    let ok = false;
    try {
      // Session-level lock: replicas starting together apply each migration exactly once, and
      // nobody reads the bookkeeping table while another replica is half way through.
      await client.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS warden_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
      );
      const done = new Set((await client.query<Row>('SELECT version FROM warden_schema_migrations')).rows.map((r) => Number(r.version)));
      const known = Math.max(...POSTGRES_MIGRATIONS.map((m) => m.version));
      const newest = Math.max(0, ...done);
      if (newest > known) {
        throw new WardenError('INTERNAL', { reason: 'database schema is newer than this Warden', current: newest, known });
      }
      const applied: number[] = [];
      for (const m of POSTGRES_MIGRATIONS) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query('INSERT INTO warden_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          Date.now(),
        ]);
        await client.query('COMMIT');
        applied.push(m.version);
      }
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK]);
      ok = true;
      return { applied, current: Math.max(newest, ...applied) };
    } catch (err) {
      throw toStoreError(err);
    } finally {
      // On failure the connection is destroyed, not reused: that rolls back any open migration
      // and releases the session lock even if the server no longer answers us.
      client.release(!ok);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.listener?.stop();
        await this.pool.end();
      } catch (err) {
        throw toStoreError(err);
      }
    })();
    return this.closing;
  }

  // People -------------------------------------------------------------------------------
  async insertPerson(p: Person): Promise<void> {
    await this.query('INSERT INTO persons (id, name, email, roles, status, created_at) VALUES ($1, $2, $3, $4::jsonb, $5, $6)', [
      p.id,
      p.name,
      p.email,
      json(p.roles),
      p.status,
      p.createdAt,
    ]);
  }

  async getPerson(id: PersonId): Promise<Person | null> {
    const [row] = await this.query('SELECT * FROM persons WHERE id = $1', [id]);
    return row ? toPerson(row) : null;
  }

  async listPersons(): Promise<Person[]> {
    return (await this.query('SELECT * FROM persons ORDER BY created_at, id')).map(toPerson);
  }

  async countPersons(): Promise<number> {
    const [row] = await this.query('SELECT count(*) AS n FROM persons');
    return Number(row?.n);
  }

  async insertApiKey(k: ApiKeyRecord): Promise<void> {
    await this.query('INSERT INTO api_keys (id, person_id, label, secret_hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      k.id,
      k.personId,
      k.label,
      k.secretHash,
      k.createdAt,
      k.revokedAt,
    ]);
  }

  async getApiKey(id: ApiKeyId): Promise<ApiKeyRecord | null> {
    const [row] = await this.query('SELECT * FROM api_keys WHERE id = $1', [id]);
    return row ? toApiKey(row) : null;
  }

  revokeApiKeysOf(personId: PersonId, at: number): Promise<number> {
    return this.execute('UPDATE api_keys SET revoked_at = $1 WHERE person_id = $2 AND revoked_at IS NULL', [at, personId]);
  }

  // Agents -------------------------------------------------------------------------------
  async insertAgent(a: Agent, keys: AgentKey[]): Promise<void> {
    await this.transaction(async (c) => {
      await c.query(
        `INSERT INTO agents (id, name, owner, purpose, risk_category, status, capabilities, max_task_lifetime_sec, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)`,
        [a.id, a.name, a.owner, a.purpose, a.riskCategory, a.status, json(a.capabilities), a.maxTaskLifetimeSec, a.createdAt, a.updatedAt],
      );
      for (const k of keys) await c.query(INSERT_AGENT_KEY, agentKeyParams(k));
    });
  }

  async getAgent(id: AgentId): Promise<Agent | null> {
    const [row] = await this.query('SELECT * FROM agents WHERE id = $1', [id]);
    return row ? toAgent(row) : null;
  }

  async getAgentByName(name: string): Promise<Agent | null> {
    const [row] = await this.query('SELECT * FROM agents WHERE name = $1', [name]);
    return row ? toAgent(row) : null;
  }

  async listAgents(filter: { status?: AgentStatus } = {}): Promise<Agent[]> {
    const rows = filter.status
      ? await this.query('SELECT * FROM agents WHERE status = $1 ORDER BY created_at, id', [filter.status])
      : await this.query('SELECT * FROM agents ORDER BY created_at, id');
    return rows.map(toAgent);
  }

  async setAgentStatus(id: AgentId, status: AgentStatus, at: number): Promise<Agent | null> {
    const [row] = await this.query('UPDATE agents SET status = $1, updated_at = $2 WHERE id = $3 RETURNING *', [status, at, id]);
    return row ? toAgent(row) : null;
  }

  async insertAgentKey(k: AgentKey): Promise<void> {
    await this.query(INSERT_AGENT_KEY, agentKeyParams(k));
  }

  async listAgentKeys(agentId: AgentId): Promise<AgentKey[]> {
    return (await this.query('SELECT * FROM agent_keys WHERE agent_id = $1 ORDER BY created_at, jkt', [agentId])).map(toAgentKey);
  }

  async getAgentKey(jkt: string): Promise<AgentKey | null> {
    const [row] = await this.query('SELECT * FROM agent_keys WHERE jkt = $1', [jkt]);
    return row ? toAgentKey(row) : null;
  }

  async retireAgentKey(agentId: AgentId, jkt: string, at: number): Promise<AgentKey | null> {
    // One statement: the retired row if this call retired it, else the row as it already was.
    const [row] = await this.query(
      `WITH retired AS (
         UPDATE agent_keys SET status = 'retired', retired_at = $3 WHERE agent_id = $1 AND jkt = $2 AND status = 'active' RETURNING *
       )
       SELECT * FROM retired
       UNION ALL
       SELECT * FROM agent_keys WHERE agent_id = $1 AND jkt = $2 AND NOT EXISTS (SELECT 1 FROM retired)`,
      [agentId, jkt, at],
    );
    return row ? toAgentKey(row) : null;
  }

  // Tasks --------------------------------------------------------------------------------
  async insertTask(t: Task): Promise<void> {
    await this.query(
      `INSERT INTO tasks (id, agent_id, purpose, scope, on_behalf_of, ticket, status, created_at, expires_at, ended_at, end_reason)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11)`,
      [
        t.id,
        t.agentId,
        t.purpose,
        json(t.scope),
        t.onBehalfOf === null ? null : json(t.onBehalfOf),
        t.ticket,
        t.status,
        t.createdAt,
        t.expiresAt,
        t.endedAt,
        t.endReason,
      ],
    );
  }

  async getTask(id: TaskId): Promise<Task | null> {
    const [row] = await this.query('SELECT * FROM tasks WHERE id = $1', [id]);
    return row ? toTask(row) : null;
  }

  async listTasks(filter: { agentId?: AgentId; status?: TaskStatus; limit?: number } = {}): Promise<Task[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.agentId) {
      params.push(filter.agentId);
      where.push(`agent_id = $${params.length}`);
    }
    if (filter.status) {
      params.push(filter.status);
      where.push(`status = $${params.length}`);
    }
    params.push(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
    const sql = `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT $${params.length}`;
    return (await this.query(sql, params)).map(toTask);
  }

  async endTask(id: TaskId, status: Exclude<TaskStatus, 'active'>, reason: string, at: number): Promise<Task | null> {
    const [row] = await this.query(
      `WITH ended AS (
         UPDATE tasks SET status = $2, end_reason = $3, ended_at = $4 WHERE id = $1 AND status = 'active' RETURNING *
       )
       SELECT * FROM ended
       UNION ALL
       SELECT * FROM tasks WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM ended)`,
      [id, status, reason, at],
    );
    return row ? toTask(row) : null;
  }

  // Revocations --------------------------------------------------------------------------
  async upsertRevocation(r: Revocation): Promise<void> {
    await this.query(
      `INSERT INTO revocations (kind, value, reason, created_at, expires_at, lifted_at) VALUES ($1, $2, $3, $4, $5, NULL)
       ON CONFLICT (kind, value) DO UPDATE SET reason = EXCLUDED.reason, created_at = EXCLUDED.created_at,
         expires_at = EXCLUDED.expires_at, lifted_at = NULL`,
      [r.kind, r.value, r.reason, r.createdAt, r.expiresAt],
    );
  }

  async liftRevocation(kind: RevocationKind, value: string, at: number): Promise<boolean> {
    return (await this.execute('UPDATE revocations SET lifted_at = $1 WHERE kind = $2 AND value = $3 AND lifted_at IS NULL', [at, kind, value])) > 0;
  }

  async listActiveRevocations(now: number): Promise<Revocation[]> {
    const rows = await this.query(
      'SELECT * FROM revocations WHERE lifted_at IS NULL AND (expires_at IS NULL OR expires_at > $1) ORDER BY created_at, kind, value',
      [now],
    );
    return rows.map(toRevocation);
  }

  // One-time values ----------------------------------------------------------------------
  async rememberOnce(namespace: string, key: string, expiresAt: number, now: number): Promise<boolean> {
    // Purged first and only now and then: expired rows are harmless (the upsert below reuses
    // them), and a purge failing after the value was remembered would turn a retry into a replay.
    if (now >= this.nextPurgeAt) {
      await this.query('DELETE FROM one_time_values WHERE expires_at <= $1', [now]);
      this.nextPurgeAt = now + PURGE_INTERVAL_MS;
    }
    // The conflicting row is locked by ON CONFLICT, so of several replicas racing on one key
    // exactly one gets a row back; an expired entry is taken over with the new expiry.
    const rows = await this.query(
      `INSERT INTO one_time_values (namespace, key, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (namespace, key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE one_time_values.expires_at <= $4
       RETURNING 1`,
      [namespace, key, expiresAt, now],
    );
    return rows.length === 1;
  }

  // Signing keys -------------------------------------------------------------------------
  async insertSigningKey(k: SigningKeyRecord): Promise<void> {
    await this.query('INSERT INTO signing_keys (kid, public_jwk, created_at, retired_at, verify_until) VALUES ($1, $2::jsonb, $3, $4, $5)', [
      k.kid,
      json(k.publicJwk),
      k.createdAt,
      k.retiredAt,
      k.verifyUntil,
    ]);
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return (await this.query('SELECT * FROM signing_keys ORDER BY created_at, kid')).map(toSigningKey);
  }

  async retireSigningKey(kid: string, at: number, verifyUntil: number): Promise<void> {
    await this.query('UPDATE signing_keys SET retired_at = $1, verify_until = $2 WHERE kid = $3 AND retired_at IS NULL', [at, verifyUntil, kid]);
  }

  // Events -------------------------------------------------------------------------------
  async appendAudit<D>(drafts: readonly D[], seal: (draft: D, seq: number) => AuditRow): Promise<AuditRow[]> {
    return this.transaction(async (c) => {
      // EXCLUSIVE still lets readers in but queues every other appender, on any replica, until
      // commit; max+1 taken after the lock sees the previous commit, so numbers have no gaps
      // (a sequence would leave one behind on every rollback).
      await c.query('LOCK TABLE audit_log IN EXCLUSIVE MODE');
      let next = await this.auditSizeIn(c);
      const rows = drafts.map((d) => seal(d, next++));
      await insertAuditRows(c, rows);
      return rows;
    });
  }

  async importLegacyEvents(seal: (event: PlacedEvent) => AuditRow): Promise<number> {
    return this.transaction(async (c) => {
      await c.query('LOCK TABLE audit_log IN EXCLUSIVE MODE');
      const from = await this.auditSizeIn(c);
      const legacy = (await c.query<Row>('SELECT * FROM events WHERE seq >= $1 ORDER BY seq', [from])).rows.map(toEvent);
      for (let i = 0; i < legacy.length; i += 1000) await insertAuditRows(c, legacy.slice(i, i + 1000).map(seal));
      return legacy.length;
    });
  }

  private async auditSizeIn(c: PoolClient): Promise<number> {
    const res = await c.query<Row>(
      'SELECT (SELECT max(seq) FROM audit_log) AS last, (SELECT archived_below FROM audit_state WHERE id = 1) AS archived',
    );
    const r = res.rows[0];
    return Math.max(r?.last === null || r?.last === undefined ? 0 : Number(r.last) + 1, Number(r?.archived ?? 0));
  }

  async searchAudit(filter: AuditFilter): Promise<AuditRow[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (filter.afterSeq !== undefined) add((p) => `seq > ${p}`, filter.afterSeq);
    if (filter.beforeSeq !== undefined) add((p) => `seq < ${p}`, filter.beforeSeq);
    // `tool.*`: every type under the prefix, matched by range so that the type index serves it.
    if (filter.type?.endsWith('.*')) {
      add((p) => `type > ${p}`, filter.type.slice(0, -1));
      add((p) => `type < ${p}`, `${filter.type.slice(0, -2)}/`);
    } else if (filter.type) add((p) => `type = ${p}`, filter.type);
    if (filter.outcome) add((p) => `outcome = ${p}`, filter.outcome);
    if (filter.agent) add((p) => `agent = ${p}`, filter.agent);
    if (filter.task) add((p) => `task = ${p}`, filter.task);
    if (filter.person) add((p) => `person = ${p}`, filter.person);
    if (filter.tool) add((p) => `tool = ${p}`, filter.tool);
    if (filter.subject) add((p) => `(entry::jsonb ->> 'subject') = ${p}`, filter.subject);
    if (filter.since !== undefined) add((p) => `time >= ${p}`, filter.since);
    if (filter.until !== undefined) add((p) => `time <= ${p}`, filter.until);
    params.push(Math.min(Math.max(filter.limit ?? 100, 1), 10_000));
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length}`;
    return (await this.query(sql, params)).map(toAuditRow);
  }

  async listEvents(filter: AuditFilter = {}): Promise<EventRecord[]> {
    return (await this.searchAudit({ limit: 1000, ...filter })).map(toEventFromAudit);
  }

  async auditRange(from: number, to: number): Promise<AuditRow[]> {
    return (await this.query('SELECT * FROM audit_log WHERE seq >= $1 AND seq < $2 ORDER BY seq', [from, to])).map(toAuditRow);
  }

  async auditLeaves(from: number, to: number): Promise<{ seq: number; leaf: Buffer }[]> {
    return (await this.query('SELECT seq, leaf FROM audit_log WHERE seq >= $1 AND seq < $2 ORDER BY seq', [from, to])).map(toLeaf);
  }

  async auditState(): Promise<{ size: number; archivedBelow: number }> {
    const client = await this.connect();
    try {
      const size = await this.auditSizeIn(client);
      const res = await client.query<Row>('SELECT archived_below FROM audit_state WHERE id = 1');
      return { size, archivedBelow: Number(res.rows[0]?.archived_below ?? 0) };
    } catch (err) {
      throw toStoreError(err);
    } finally {
      client.release();
    }
  }

  async putAuditNodes(nodes: readonly AuditNode[]): Promise<void> {
    if (nodes.length === 0) return;
    await this.execute(
      `INSERT INTO audit_nodes (level, idx, hash) SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[]) ON CONFLICT DO NOTHING`,
      [nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => n.hash)],
    );
  }

  async getAuditNodes(level: number, from: number, to: number): Promise<AuditNode[]> {
    return (await this.query('SELECT * FROM audit_nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx', [level, from, to])).map(toAuditNode);
  }

  async insertCheckpoint(cp: StoredCheckpoint): Promise<void> {
    await this.execute('INSERT INTO audit_checkpoints (size, time, root, note) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [cp.size, cp.time, cp.root, cp.note]);
  }

  async listCheckpoints(filter: { fromSize?: number; limit?: number } = {}): Promise<StoredCheckpoint[]> {
    const limit = Math.min(Math.max(filter.limit ?? 1000, 1), 100_000);
    return (await this.query('SELECT * FROM audit_checkpoints WHERE size >= $1 ORDER BY size LIMIT $2', [filter.fromSize ?? 0, limit])).map(toCheckpoint);
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | null> {
    const rows = await this.query('SELECT * FROM audit_checkpoints ORDER BY size DESC LIMIT 1');
    return rows[0] ? toCheckpoint(rows[0]) : null;
  }

  async archiveAudit(below: number, nodes: readonly AuditNode[]): Promise<number> {
    return this.transaction(async (c) => {
      await c.query('LOCK TABLE audit_log IN EXCLUSIVE MODE');
      if (nodes.length > 0) {
        await c.query(
          `INSERT INTO audit_nodes (level, idx, hash) SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[]) ON CONFLICT DO NOTHING`,
          [nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => n.hash)],
        );
      }
      await c.query('UPDATE audit_state SET archived_below = greatest(archived_below, $1) WHERE id = 1', [below]);
      return (await c.query('DELETE FROM audit_log WHERE seq < $1', [below])).rowCount ?? 0;
    });
  }

  async getAuditCursor(name: string): Promise<number> {
    const rows = await this.query('SELECT next_seq FROM audit_cursors WHERE name = $1', [name]);
    return rows[0] ? Number(rows[0].next_seq) : 0;
  }

  async advanceAuditCursor(name: string, from: number, to: number, at: number): Promise<boolean> {
    const moved = await this.execute('UPDATE audit_cursors SET next_seq = $1, updated_at = $2 WHERE name = $3 AND next_seq = $4', [to, at, name, from]);
    if (moved === 1 || from !== 0) return moved === 1;
    return (await this.execute('INSERT INTO audit_cursors (name, next_seq, updated_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [name, to, at])) === 1;
  }

  async getTaskFlow(taskId: string, digests: readonly string[] | 'all'): Promise<TaskFlow> {
    const flags = (await this.query('SELECT untrusted_read, confidential_read, incomplete, revision FROM task_flow WHERE task_id = $1', [taskId]))[0];
    const trusted: string[] = [];
    const untrusted: string[] = [];
    if (flags && (digests === 'all' || digests.length > 0)) {
      const rows =
        digests === 'all'
          ? await this.query('SELECT digest, trust FROM task_values WHERE task_id = $1', [taskId])
          : await this.query('SELECT digest, trust FROM task_values WHERE task_id = $1 AND digest = ANY($2::text[])', [taskId, [...digests]]);
      for (const r of rows) (r.trust === 'trusted' ? trusted : untrusted).push(String(r.digest));
    }
    return {
      untrustedRead: flags?.untrusted_read === true,
      confidentialRead: flags?.confidential_read === true,
      incomplete: flags?.incomplete === true,
      revision: Number(flags?.revision ?? 0),
      trusted,
      untrusted,
    };
  }

  async recordTaskFlow(taskId: string, update: TaskFlowUpdate, at: number, maxValues: number): Promise<{ revision: number }> {
    return this.transaction(async (c) => {
      // The row lock serializes replicas recording for the same task, so the count holds.
      const res = await c.query<Row>(
        `INSERT INTO task_flow (task_id, untrusted_read, confidential_read, incomplete, values_count, revision, updated_at)
         VALUES ($1, $2, $3, $4, 0, 1, $5)
         ON CONFLICT (task_id) DO UPDATE SET untrusted_read = task_flow.untrusted_read OR EXCLUDED.untrusted_read,
           confidential_read = task_flow.confidential_read OR EXCLUDED.confidential_read,
           incomplete = task_flow.incomplete OR EXCLUDED.incomplete, revision = task_flow.revision + 1, updated_at = EXCLUDED.updated_at
         RETURNING values_count, revision`,
        [taskId, update.untrustedRead, update.confidentialRead, update.incomplete, at],
      );
      const room = Math.max(0, maxValues - Number(res.rows[0]?.values_count ?? 0));
      const values = update.values.slice(0, room);
      const refused = update.values.slice(room).some((v) => v.trust === 'untrusted');
      const inserted =
        values.length === 0
          ? 0
          : ((
              await c.query(`INSERT INTO task_values (task_id, digest, trust) SELECT $1, * FROM unnest($2::text[], $3::text[]) ON CONFLICT DO NOTHING`, [
                taskId,
                values.map((v) => v.digest),
                values.map((v) => v.trust),
              ])
            ).rowCount ?? 0);
      await c.query('UPDATE task_flow SET values_count = values_count + $1, incomplete = incomplete OR $2 WHERE task_id = $3', [inserted, refused, taskId]);
      return { revision: Number(res.rows[0]?.revision) };
    });
  }

  // Approvals ----------------------------------------------------------------------------
  async getOrInsertApproval(a: Approval, now: number): Promise<{ approval: Approval; created: boolean }> {
    assertNewApproval(a);
    // Bounded: each round either returns or lost a race to a caller whose row the next round
    // reads. Only rows vanishing again at once (consumed, expired) could make it go round.
    for (let round = 0; round < 5; round++) {
      // A stale open row would hold the unique index against the new one.
      await this.query(
        `UPDATE approvals SET status = 'expired', resolved_at = expires_at
         WHERE task_id = $1 AND args_digest = $2 AND status IN ('pending', 'approved') AND expires_at <= $3`,
        [a.taskId, a.argsDigest, now],
      );
      const [governing] = await this.query(
        `${SELECT_APPROVAL} WHERE a.task_id = $1 AND a.args_digest = $2 AND a.status IN ('pending', 'approved', 'denied')
         AND a.expires_at > $3 ORDER BY a.created_at DESC, a.id LIMIT 1`,
        [a.taskId, a.argsDigest, now],
      );
      if (governing) return { approval: toApproval(governing), created: false };
      // A concurrent insert of the same call waits here for the other transaction, then does
      // nothing: the partial unique index is the arbiter, on every replica.
      const [inserted] = await this.query(
        `INSERT INTO approvals AS a (id, agent_id, task_id, action, args_digest, args, required, requester, self_approval, policies,
           status, created_at, expires_at, resolved_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10::jsonb, $11, $12, $13, NULL)
         ON CONFLICT (task_id, args_digest) WHERE status IN ('pending', 'approved') DO NOTHING
         RETURNING a.*, '[]'::jsonb AS decisions`,
        [
          a.id,
          a.agentId,
          a.taskId,
          a.action,
          a.argsDigest,
          json(a.args),
          a.required,
          a.requester,
          a.selfApproval,
          json(a.policies),
          a.status,
          a.createdAt,
          a.expiresAt,
        ],
      );
      if (inserted) return { approval: toApproval(inserted), created: true };
    }
    throw new WardenError('CONFLICT', { reason: 'approval of this call keeps changing' });
  }

  async getApproval(id: ApprovalId): Promise<Approval | null> {
    const [row] = await this.query(`${SELECT_APPROVAL} WHERE a.id = $1`, [id]);
    return row ? toApproval(row) : null;
  }

  async listApprovals(filter: ApprovalFilter = {}): Promise<Approval[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) {
      params.push(filter.status);
      where.push(`a.status = $${params.length}`);
    }
    if (filter.taskId) {
      params.push(filter.taskId);
      where.push(`a.task_id = $${params.length}`);
    }
    for (const [column, value] of [['agent_id', filter.agentId], ['action', filter.action], ['args_digest', filter.argsDigest]] as const) {
      if (value === undefined) continue;
      params.push(value);
      where.push(`a.${column} = $${params.length}`);
    }
    params.push(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
    const sql = `${SELECT_APPROVAL} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.created_at DESC, a.id LIMIT $${params.length}`;
    return (await this.query(sql, params)).map(toApproval);
  }

  decideApproval(id: ApprovalId, d: ApprovalDecision, now: number): Promise<ApprovalDecideOutcome> {
    return this.transaction(async (c): Promise<ApprovalDecideOutcome> => {
      const read = async (): Promise<Approval> => toApproval((await c.query<Row>(`${SELECT_APPROVAL} WHERE a.id = $1`, [id])).rows[0]!);
      // The row lock queues every decider of this approval, on any replica, until commit: the
      // count below then sees every earlier decision, so exactly one decider resolves it.
      const row = (await c.query<Row>('SELECT status, expires_at, required FROM approvals WHERE id = $1 FOR UPDATE', [id])).rows[0];
      if (!row) return { kind: 'not_found' };
      if (row.status !== 'pending' || Number(row.expires_at) <= now) return { kind: 'closed', approval: await read() };
      const inserted = await c.query(
        `INSERT INTO approval_decisions (approval_id, person_id, decision, comment, at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (approval_id, person_id) DO NOTHING`,
        [id, d.personId, d.decision, d.comment, d.at],
      );
      if (inserted.rowCount === 0) return { kind: 'already_decided', approval: await read() };
      let status: ApprovalStatus | null = null;
      if (d.decision === 'deny') {
        status = 'denied';
      } else {
        // The requester's own approval does not count unless the policy allows it.
        const counted = await c.query<Row>(
          `SELECT count(*) AS n FROM approval_decisions d JOIN approvals a ON a.id = d.approval_id
           WHERE d.approval_id = $1 AND d.decision = 'approve'
             AND (a.self_approval OR a.requester IS NULL OR d.person_id <> a.requester)`,
          [id],
        );
        if (Number(counted.rows[0]?.n) >= Number(row.required)) status = 'approved';
      }
      if (status) await c.query('UPDATE approvals SET status = $1, resolved_at = $2 WHERE id = $3', [status, d.at, id]);
      return { kind: 'recorded', approval: await read(), resolved: status !== null };
    });
  }

  async consumeApproval(id: ApprovalId, now: number): Promise<{ consumed: boolean; approval: Approval | null }> {
    // One statement: of concurrent consumers the row lock lets one through; the others re-check
    // the condition after it committed and find the approval consumed.
    const [row] = await this.query(
      `UPDATE approvals a SET status = 'consumed' WHERE a.id = $1 AND a.status = 'approved' AND a.expires_at > $2
       RETURNING a.*, ${DECISIONS_OF_A}`,
      [id, now],
    );
    if (row) return { consumed: true, approval: toApproval(row) };
    return { consumed: false, approval: await this.getApproval(id) };
  }

  async expireApprovals(now: number): Promise<Approval[]> {
    const rows = await this.query(
      `UPDATE approvals a SET status = 'expired', resolved_at = a.expires_at
       WHERE a.status IN ('pending', 'approved') AND a.expires_at <= $1
       RETURNING a.*, ${DECISIONS_OF_A}`,
      [now],
    );
    return rows.map(toApproval).sort((x, y) => x.createdAt - y.createdAt || x.id.localeCompare(y.id));
  }

  // Secrets ------------------------------------------------------------------------------
  insertSecretVersion(d: SecretVersionDraft, seal: (version: number) => SealedSecret): Promise<SecretVersion> {
    return this.transaction(async (c) => {
      // A row lock cannot guard a name with no rows yet; this lock queues every writer of the
      // name, on any replica, until commit. Under READ COMMITTED the max() below then sees the
      // previous writer's row. Two names sharing a hash merely wait for each other; the
      // primary key still refuses a duplicate number (CONFLICT) if anything else went wrong.
      await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SECRET_LOCK_CLASS, d.name]);
      const newest = await c.query<Row>('SELECT max(version) AS v FROM secrets WHERE name = $1', [d.name]);
      const version = Number(newest.rows[0]?.v ?? 0) + 1;
      const sealed = sealWith(seal, version);
      await c.query('UPDATE secrets SET not_after = $1 WHERE name = $2 AND (not_after IS NULL OR not_after > $1)', [d.previousNotAfter, d.name]);
      const res = await c.query<Row>(
        `INSERT INTO secrets (name, version, ciphertext, nonce, key_id, created_at, not_after, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7::jsonb) RETURNING *`,
        [d.name, version, sealed.ciphertext, sealed.nonce, sealed.keyId, d.createdAt, json(d.createdBy)],
      );
      return toSecretVersion(res.rows[0]!);
    });
  }

  async getLiveSecretVersions(name: string, now: number): Promise<SecretVersion[]> {
    const rows = await this.query(
      'SELECT * FROM secrets WHERE name = $1 AND (not_after IS NULL OR not_after > $2) ORDER BY version DESC',
      [name, now],
    );
    return rows.map(toSecretVersion);
  }

  async listLiveSecretVersions(now: number): Promise<SecretVersionMeta[]> {
    // Byte order ("C"), as SQLite sorts: the database's locale must not change the listing.
    const rows = await this.query(
      `SELECT name, version, key_id, created_at, not_after, created_by FROM secrets
       WHERE not_after IS NULL OR not_after > $1 ORDER BY name COLLATE "C", version DESC`,
      [now],
    );
    return rows.map(toSecretVersionMeta);
  }

  // Change notification ------------------------------------------------------------------
  async notifyRevocationsChanged(): Promise<void> {
    await this.query(`NOTIFY ${REVOCATIONS_CHANNEL}`);
  }

  /**
   * Subscribes to revocation changes from every replica. The first subscription opens a
   * dedicated LISTEN connection, which reconnects with backoff when it drops. Listeners are
   * also called each time that connection (re)starts listening, because a NOTIFY sent while
   * nobody listened is lost: a spurious reload is cheap, a missed revocation is not.
   * Listeners must not throw; each is called on its own microtask.
   */
  onRevocationsChanged(listener: () => void): void {
    if (this.closing) return;
    this.listeners.add(listener);
    this.listener ??= new NotificationListener(this.config, REVOCATIONS_CHANNEL, () => {
      for (const l of this.listeners) queueMicrotask(l);
    });
  }

  async listToolPins(server?: string): Promise<ToolPin[]> {
    const rows = server === undefined
      ? await this.query('SELECT * FROM tool_pins ORDER BY server, tool')
      : await this.query('SELECT * FROM tool_pins WHERE server = $1 ORDER BY tool', [server]);
    return rows.map(toToolPin);
  }

  async pinTool(pin: ToolPin): Promise<{ pin: ToolPin; created: boolean }> {
    const p = ToolPinSchema.parse(pin);
    const inserted = await this.query(
      `INSERT INTO tool_pins (server, tool, digest, definition, status, pending_digest, pending_definition, first_seen_at, changed_at, accepted_at, accepted_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (server, tool) DO NOTHING RETURNING *`,
      [p.server, p.tool, p.digest, JSON.stringify(p.definition), p.status, p.pendingDigest, p.pendingDefinition === null ? null : JSON.stringify(p.pendingDefinition), p.firstSeenAt, p.changedAt, p.acceptedAt, p.acceptedBy],
    );
    if (inserted[0]) return { pin: toToolPin(inserted[0]), created: true };
    const row = (await this.query('SELECT * FROM tool_pins WHERE server = $1 AND tool = $2', [p.server, p.tool]))[0];
    if (!row) throw new WardenError('CONFLICT');
    return { pin: toToolPin(row), created: false };
  }

  async flagToolChange(server: string, tool: string, digest: string, definition: ToolDefinition, now: number): Promise<{ pin: ToolPin; flagged: boolean } | null> {
    const def = ToolDefinitionSchema.parse(definition);
    const updated = await this.query(
      `UPDATE tool_pins SET status = 'changed', pending_digest = $1, pending_definition = $2, changed_at = $3
       WHERE server = $4 AND tool = $5 AND digest <> $1 AND (pending_digest IS NULL OR pending_digest <> $1) RETURNING *`,
      [digest, JSON.stringify(def), now, server, tool],
    );
    if (updated[0]) return { pin: toToolPin(updated[0]), flagged: true };
    const row = (await this.query('SELECT * FROM tool_pins WHERE server = $1 AND tool = $2', [server, tool]))[0];
    return row ? { pin: toToolPin(row), flagged: false } : null;
  }

  async acceptToolChange(server: string, tool: string, pendingDigest: string, by: PersonId, now: number): Promise<ToolPin | null> {
    const rows = await this.query(
      `UPDATE tool_pins SET digest = pending_digest, definition = pending_definition, status = 'accepted',
         pending_digest = NULL, pending_definition = NULL, accepted_at = $1, accepted_by = $2
       WHERE server = $3 AND tool = $4 AND status = 'changed' AND pending_digest = $5 RETURNING *`,
      [now, by, server, tool, pendingDigest],
    );
    return rows[0] ? toToolPin(rows[0]) : null;
  }

  async chargeTask(taskId: TaskId, charge: TaskUsage, budget: TaskBudget | null): Promise<{ ok: boolean; usage: TaskUsage }> {
    // One statement, one round trip: the row lock of the upsert orders concurrent charges of a
    // task across replicas, and the WHERE applies the budget to the usage as it is under it.
    if (budget && !withinBudget({ calls: 0, bytesOut: 0, bytesIn: 0 }, charge, budget)) return { ok: false, usage: await this.getTaskUsage(taskId) };
    const limits = [budget?.calls ?? null, budget?.bytesOut ?? null, budget?.bytesIn ?? null];
    const rows = await this.query(
      `INSERT INTO task_usage AS u (task_id, calls, bytes_out, bytes_in) VALUES ($1, $2, $3, $4)
       ON CONFLICT (task_id) DO UPDATE SET calls = u.calls + $2, bytes_out = u.bytes_out + $3, bytes_in = u.bytes_in + $4
       WHERE ($5::bigint IS NULL OR u.calls + $2 <= $5)
         AND ($6::bigint IS NULL OR u.bytes_out + $3 <= $6)
         AND ($7::bigint IS NULL OR u.bytes_in + $4 < $7 OR ($2 = 0 AND $3 = 0))
       RETURNING calls, bytes_out, bytes_in`,
      [taskId, charge.calls, charge.bytesOut, charge.bytesIn, ...limits],
    );
    if (rows[0]) return { ok: true, usage: toTaskUsage(rows[0]) };
    return { ok: false, usage: await this.getTaskUsage(taskId) };
  }

  async getTaskUsage(taskId: TaskId): Promise<TaskUsage> {
    return toTaskUsage((await this.query('SELECT * FROM task_usage WHERE task_id = $1', [taskId]))[0]);
  }
}

/** One `LISTEN` connection kept alive across server restarts and network drops. */
class NotificationListener {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private delay = RECONNECT_MIN_MS;
  private stopped = false;

  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly onChange: () => void,
  ) {
    void this.connect();
  }

  private async connect(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    // TCP keep-alive: an idle LISTEN connection silently cut by the network would otherwise
    // never report an error, and revocations would stop arriving without anyone noticing.
    const client = new pg.Client({ ...this.config, keepAlive: true, keepAliveInitialDelayMillis: 10_000, application_name: 'warden-listener' });
    this.client = client;
    let failed = false;
    const fail = (): void => {
      if (failed) return;
      failed = true;
      if (this.client === client) this.client = undefined;
      client.end().catch(() => {});
      this.retry();
    };
    client.on('error', fail);
    client.on('end', fail);
    client.on('notification', (msg) => {
      if (msg.channel === this.channel) this.onChange();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch {
      fail();
      return;
    }
    if (this.stopped) {
      // stop() ran while we were connecting: this connection must not outlive it.
      await client.end().catch(() => {});
      return;
    }
    if (failed) return;
    this.delay = RECONNECT_MIN_MS;
    this.onChange();
  }

  private retry(): void {
    if (this.stopped || this.timer) return;
    const wait = this.delay / 2 + Math.random() * (this.delay / 2);
    this.delay = Math.min(this.delay * 2, RECONNECT_MAX_MS);
    this.timer = setTimeout(() => void this.connect(), wait);
    // A pending reconnect alone should not keep a process alive that is otherwise done.
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}

/** One multi-row INSERT of audit rows (arrays unnested server-side). */
async function insertAuditRows(c: PoolClient, rows: readonly AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  await c.query(
    `INSERT INTO audit_log (seq, time, type, outcome, agent, task, person, tool, entry, leaf)
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bytea[])`,
    [
      rows.map((r) => r.seq),
      rows.map((r) => r.time),
      rows.map((r) => r.type),
      rows.map((r) => r.outcome),
      rows.map((r) => r.agent),
      rows.map((r) => r.task),
      rows.map((r) => r.person),
      rows.map((r) => r.tool),
      rows.map((r) => r.entry),
      rows.map((r) => r.leaf),
    ],
  );
}
