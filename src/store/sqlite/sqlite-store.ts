import { WalCheckpointer } from './wal-checkpointer.js';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
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
import { parseJsonColumn, parseRow } from '../rows.js';
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
import { SQLITE_MIGRATIONS } from './migrations.js';
import { withinBudget } from '../budget.js';


const toApproval = (r: Row, decisions: Row[]): Approval =>
  parseRow(
    ApprovalSchema,
    {
      id: r.id,
      agentId: r.agent_id,
      taskId: r.task_id,
      action: r.action,
      argsDigest: r.args_digest,
      args: parseJsonColumn(r.args, 'approvals'),
      required: r.required,
      requester: r.requester,
      // Anything but 0 or 1 stays as it is, so the row fails its schema.
      selfApproval: r.self_approval === 1 ? true : r.self_approval === 0 ? false : r.self_approval,
      policies: parseJsonColumn(r.policies, 'approvals'),
      status: r.status,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      resolvedAt: r.resolved_at,
      decisions: decisions.map((d) => ({ personId: d.person_id, decision: d.decision, comment: d.comment, at: d.at })),
    },
    'approvals',
  );

/** An approval may only be stored as it starts: pending, undecided. */
function assertNewApproval(a: Approval): void {
  if (a.status !== 'pending' || a.decisions.length > 0 || a.resolvedAt !== null) {
    throw new TypeError('getOrInsertApproval() takes a pending approval without decisions');
  }
}

/** How long appended entries wait before their search columns are indexed in one batch. */
export const AUDIT_INDEX_EVERY_MS = 200;
/** Most entries indexed in one transaction (a backlog goes in several, yielding between them). */
export const AUDIT_INDEX_BATCH = 128;

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && String((err as { code: unknown }).code).startsWith('SQLITE_CONSTRAINT');
}

/**
 * The embedded default store: one SQLite file in WAL mode. better-sqlite3 is synchronous, so
 * each method's write is committed before its promise resolves; one process owns the file.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Db;
  private readonly statements = new Map<string, Statement>();

  /**
   * `durability: 'process'` (NORMAL in WAL mode) survives a killed process; `'fsync'` (FULL)
   * also survives power loss, at one fsync per commit.
   */
  constructor(path: string, opts: { durability?: 'process' | 'fsync'; walCheckpoints?: 'inline' | 'background' } = {}) {
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(opts.durability === 'fsync' ? 'synchronous = FULL' : 'synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('busy_timeout = 5000');
    } catch (cause) {
      throw new WardenError('STORE_UNAVAILABLE', { store: 'sqlite' }, { cause });
    }
    // A server's store checkpoints from a thread of its own; should that thread fail, SQLite's
    // inline checkpoints (every 1,000 pages) come back.
    if (opts.walCheckpoints === 'background' && !this.db.memory) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new WalCheckpointer(path, () => {
        if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
      });
    }
  }

  private checkpointer: WalCheckpointer | undefined;

  /**
   * A prepared statement, prepared once per SQL text: better-sqlite3 statements are reusable,
   * and preparing one costs more than running a small one. Texts are our own (bounded in
   * number, also the few built from filter combinations); past the bound they are not kept.
   */
  private sql(text: string): Statement {
    let stmt = this.statements.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      if (this.statements.size < 1000) this.statements.set(text, stmt);
    }
    return stmt;
  }

  private run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      if (err instanceof WardenError) return Promise.reject(err);
      if (isUniqueViolation(err)) return Promise.reject(new WardenError('CONFLICT', undefined, { cause: err }));
      return Promise.reject(new WardenError('STORE_UNAVAILABLE', { store: 'sqlite' }, { cause: err }));
    }
  }

  migrate(): Promise<{ applied: number[]; current: number }> {
    return this.run(() => {
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
      );
      const done = new Set(
        (this.sql('SELECT version FROM schema_migrations').all() as Row[]).map((r) => Number(r.version)),
      );
      const applied: number[] = [];
      for (const m of SQLITE_MIGRATIONS) {
        if (done.has(m.version)) continue;
        this.db.transaction(() => {
          this.db.exec(m.sql);
          this.sql('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
        })();
        applied.push(m.version);
      }
      const known = Math.max(...SQLITE_MIGRATIONS.map((m) => m.version));
      const current = Math.max(0, ...done, ...applied);
      if (current > known) {
        throw new WardenError('INTERNAL', { reason: 'database schema is newer than this Warden', current, known });
      }
      return { applied, current };
    });
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    if (this.auditIndexTimer) clearTimeout(this.auditIndexTimer);
    return this.run(() => {
      if (!this.db.open) return;
      try {
        while (!this.db.readonly && this.indexAudit() === AUDIT_INDEX_BATCH);
      } catch {
        // Left for the next process that appends; searches scan what is not indexed.
      }
      this.db.close();
    });
  }

  // People -------------------------------------------------------------------------------
  insertPerson(p: Person): Promise<void> {
    return this.run(() => {
      this.sql('INSERT INTO persons (id, name, email, roles, status, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(p.id, p.name, p.email, JSON.stringify(p.roles), p.status, p.createdAt);
    });
  }

  getPerson(id: PersonId): Promise<Person | null> {
    return this.run(() => {
      const row = this.sql('SELECT * FROM persons WHERE id = ?').get(id) as Row | undefined;
      return row ? toPerson(row) : null;
    });
  }

  listPersons(): Promise<Person[]> {
    return this.run(() => (this.sql('SELECT * FROM persons ORDER BY created_at, id').all() as Row[]).map(toPerson));
  }

  countPersons(): Promise<number> {
    return this.run(() => Number((this.sql('SELECT count(*) AS n FROM persons').get() as Row).n));
  }

  insertApiKey(k: ApiKeyRecord): Promise<void> {
    return this.run(() => {
      this.sql('INSERT INTO api_keys (id, person_id, label, secret_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(k.id, k.personId, k.label, k.secretHash, k.createdAt, k.revokedAt);
    });
  }

  getApiKey(id: ApiKeyId): Promise<ApiKeyRecord | null> {
    return this.run(() => {
      const row = this.sql('SELECT * FROM api_keys WHERE id = ?').get(id) as Row | undefined;
      return row ? toApiKey(row) : null;
    });
  }

  revokeApiKeysOf(personId: PersonId, at: number): Promise<number> {
    return this.run(
      () => this.sql('UPDATE api_keys SET revoked_at = ? WHERE person_id = ? AND revoked_at IS NULL').run(at, personId).changes,
    );
  }

  // Agents -------------------------------------------------------------------------------
  insertAgent(a: Agent, keys: AgentKey[]): Promise<void> {
    return this.run(() => {
      this.db.transaction(() => {
        this.sql(
            `INSERT INTO agents (id, name, owner, purpose, risk_category, status, capabilities, max_task_lifetime_sec, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(a.id, a.name, a.owner, a.purpose, a.riskCategory, a.status, JSON.stringify(a.capabilities), a.maxTaskLifetimeSec, a.createdAt, a.updatedAt);
        for (const k of keys) this.insertKeyRow(k);
      })();
    });
  }

  private insertKeyRow(k: AgentKey): void {
    this.sql('INSERT INTO agent_keys (jkt, agent_id, jwk, alg, status, created_at, retired_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(k.jkt, k.agentId, JSON.stringify(k.jwk), k.alg, k.status, k.createdAt, k.retiredAt);
  }

  getAgent(id: AgentId): Promise<Agent | null> {
    return this.run(() => {
      const row = this.sql('SELECT * FROM agents WHERE id = ?').get(id) as Row | undefined;
      return row ? toAgent(row) : null;
    });
  }

  getAgentByName(name: string): Promise<Agent | null> {
    return this.run(() => {
      const row = this.sql('SELECT * FROM agents WHERE name = ?').get(name) as Row | undefined;
      return row ? toAgent(row) : null;
    });
  }

  listAgents(filter: { status?: AgentStatus } = {}): Promise<Agent[]> {
    return this.run(() => {
      const rows = filter.status
        ? this.sql('SELECT * FROM agents WHERE status = ? ORDER BY created_at, id').all(filter.status)
        : this.sql('SELECT * FROM agents ORDER BY created_at, id').all();
      return (rows as Row[]).map(toAgent);
    });
  }

  setAgentStatus(id: AgentId, status: AgentStatus, at: number): Promise<Agent | null> {
    return this.run(() => {
      this.sql('UPDATE agents SET status = ?, updated_at = ? WHERE id = ?').run(status, at, id);
      const row = this.sql('SELECT * FROM agents WHERE id = ?').get(id) as Row | undefined;
      return row ? toAgent(row) : null;
    });
  }

  insertAgentKey(k: AgentKey): Promise<void> {
    return this.run(() => this.insertKeyRow(k));
  }

  listAgentKeys(agentId: AgentId): Promise<AgentKey[]> {
    return this.run(() =>
      (this.sql('SELECT * FROM agent_keys WHERE agent_id = ? ORDER BY created_at, jkt').all(agentId) as Row[]).map(toAgentKey),
    );
  }

  getAgentKey(jkt: string): Promise<AgentKey | null> {
    return this.run(() => {
      const row = this.sql('SELECT * FROM agent_keys WHERE jkt = ?').get(jkt) as Row | undefined;
      return row ? toAgentKey(row) : null;
    });
  }

  retireAgentKey(agentId: AgentId, jkt: string, at: number): Promise<AgentKey | null> {
    return this.run(() => {
      this.sql("UPDATE agent_keys SET status = 'retired', retired_at = ? WHERE agent_id = ? AND jkt = ? AND status = 'active'")
        .run(at, agentId, jkt);
      const row = this.sql('SELECT * FROM agent_keys WHERE agent_id = ? AND jkt = ?').get(agentId, jkt) as Row | undefined;
      return row ? toAgentKey(row) : null;
    });
  }

  // Tasks --------------------------------------------------------------------------------
  insertTask(t: Task): Promise<void> {
    return this.run(() => {
      this.sql(
          `INSERT INTO tasks (id, agent_id, purpose, scope, on_behalf_of, ticket, status, created_at, expires_at, ended_at, end_reason)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          t.id,
          t.agentId,
          t.purpose,
          JSON.stringify(t.scope),
          t.onBehalfOf ? JSON.stringify(t.onBehalfOf) : null,
          t.ticket,
          t.status,
          t.createdAt,
          t.expiresAt,
          t.endedAt,
          t.endReason,
        );
    });
  }

  getTask(id: TaskId): Promise<Task | null> {
    return this.run(() => {
      const row = this.sql('SELECT * FROM tasks WHERE id = ?').get(id) as Row | undefined;
      return row ? toTask(row) : null;
    });
  }

  listTasks(filter: { agentId?: AgentId; status?: TaskStatus; limit?: number } = {}): Promise<Task[]> {
    return this.run(() => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.agentId) {
        where.push('agent_id = ?');
        args.push(filter.agentId);
      }
      if (filter.status) {
        where.push('status = ?');
        args.push(filter.status);
      }
      const sql = `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT ?`;
      args.push(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
      return (this.sql(sql).all(...args) as Row[]).map(toTask);
    });
  }

  endTask(id: TaskId, status: Exclude<TaskStatus, 'active'>, reason: string, at: number): Promise<Task | null> {
    return this.run(() => {
      this.sql("UPDATE tasks SET status = ?, end_reason = ?, ended_at = ? WHERE id = ? AND status = 'active'")
        .run(status, reason, at, id);
      const row = this.sql('SELECT * FROM tasks WHERE id = ?').get(id) as Row | undefined;
      return row ? toTask(row) : null;
    });
  }

  // Revocations --------------------------------------------------------------------------
  upsertRevocation(r: Revocation): Promise<void> {
    return this.run(() => {
      this.sql(
          `INSERT INTO revocations (kind, value, reason, created_at, expires_at, lifted_at) VALUES (?, ?, ?, ?, ?, NULL)
           ON CONFLICT (kind, value) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at,
             expires_at = excluded.expires_at, lifted_at = NULL`,
        )
        .run(r.kind, r.value, r.reason, r.createdAt, r.expiresAt);
    });
  }

  liftRevocation(kind: RevocationKind, value: string, at: number): Promise<boolean> {
    return this.run(
      () =>
        this.sql('UPDATE revocations SET lifted_at = ? WHERE kind = ? AND value = ? AND lifted_at IS NULL').run(at, kind, value).changes >
        0,
    );
  }

  listActiveRevocations(now: number): Promise<Revocation[]> {
    return this.run(() =>
      (
        this.sql('SELECT * FROM revocations WHERE lifted_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at')
          .all(now) as Row[]
      ).map(toRevocation),
    );
  }

  // One-time values ----------------------------------------------------------------------
  rememberOnce(namespace: string, key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.run(() =>
      this.db.transaction(() => {
        this.sql('DELETE FROM one_time_values WHERE expires_at <= ?').run(now);
        const res = this.sql('INSERT INTO one_time_values (namespace, key, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
          .run(namespace, key, expiresAt);
        return res.changes === 1;
      })(),
    );
  }

  // Signing keys -------------------------------------------------------------------------
  insertSigningKey(k: SigningKeyRecord): Promise<void> {
    return this.run(() => {
      this.sql('INSERT INTO signing_keys (kid, public_jwk, created_at, retired_at, verify_until) VALUES (?, ?, ?, ?, ?)')
        .run(k.kid, JSON.stringify(k.publicJwk), k.createdAt, k.retiredAt, k.verifyUntil);
    });
  }

  listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.run(() => (this.sql('SELECT * FROM signing_keys ORDER BY created_at, kid').all() as Row[]).map(toSigningKey));
  }

  retireSigningKey(kid: string, at: number, verifyUntil: number): Promise<void> {
    return this.run(() => {
      this.sql('UPDATE signing_keys SET retired_at = ?, verify_until = ? WHERE kid = ? AND retired_at IS NULL').run(at, verifyUntil, kid);
    });
  }

  // Events -------------------------------------------------------------------------------
  appendAudit<D>(drafts: readonly D[], seal: (draft: D, seq: number) => AuditRow): Promise<AuditRow[]> {
    return this.run(() =>
      // IMMEDIATE takes the write lock first, so max(seq) cannot move under us.
      this.db.transaction(() => {
        let next = this.auditSize();
        const rows = drafts.map((d) => seal(d, next++));
        const insert = this.sql(
          `INSERT INTO audit_log (seq, time, type, outcome, agent, task, person, tool, entry, leaf)
           VALUES (@seq, @time, @type, @outcome, @agent, @task, @person, @tool, @entry, @leaf)`,
        );
        for (const row of rows) insert.run(row);
        return rows;
      }).immediate(),
    ).then((rows) => {
      this.scheduleAuditIndex();
      return rows;
    });
  }

  /**
   * Copies the search columns of entries not yet indexed into `audit_search`, at most `max` in
   * one transaction; returns how many. Indexing trails the log by design (migration 7): one
   * batch every {@link AUDIT_INDEX_EVERY_MS} writes each index's pages once for many entries
   * instead of once per entry, on the path of every call.
   */
  indexAudit(max = AUDIT_INDEX_BATCH): number {
    return this.db.transaction(() => {
      const mark = this.auditIndexMark();
      const moved = this.sql(
        `INSERT INTO audit_search (seq, time, type, outcome, agent, task, person, tool)
         SELECT seq, time, type, outcome, agent, task, person, tool FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?`,
      ).run(mark, max).changes;
      if (moved > 0) {
        const last = this.sql('SELECT max(seq) AS last FROM audit_search').get() as Row;
        this.sql('UPDATE audit_search_mark SET indexed_below = ? WHERE id = 1').run(Number(last.last) + 1);
      }
      return moved;
    }).immediate();
  }

  private auditIndexTimer: NodeJS.Timeout | null = null;

  /** Indexes what was appended, soon, in batches of its own, each its own short transaction. */
  private scheduleAuditIndex(): void {
    if (this.auditIndexTimer || !this.db.open) return;
    this.auditIndexTimer = setTimeout(() => {
      const step = (): void => {
        let moved = 0;
        try {
          if (this.db.open) moved = this.indexAudit();
        } catch {
          // Searches stay complete without it (the tail is scanned); the next append retries.
          moved = 0;
        }
        if (moved === AUDIT_INDEX_BATCH) setImmediate(step);
        else this.auditIndexTimer = null;
      };
      step();
    }, AUDIT_INDEX_EVERY_MS);
    this.auditIndexTimer.unref();
  }

  private auditIndexMark(): number {
    const row = this.sql('SELECT indexed_below FROM audit_search_mark WHERE id = 1').get() as Row | undefined;
    return Number(row?.indexed_below ?? 0);
  }

  importLegacyEvents(seal: (event: PlacedEvent) => AuditRow): Promise<number> {
    return this.run(() =>
      this.db.transaction(() => {
        const from = this.auditSize();
        const legacy = (this.sql('SELECT * FROM events WHERE seq >= ? ORDER BY seq').all(from) as Row[]).map(toEvent);
        const insert = this.sql(
          `INSERT INTO audit_log (seq, time, type, outcome, agent, task, person, tool, entry, leaf)
           VALUES (@seq, @time, @type, @outcome, @agent, @task, @person, @tool, @entry, @leaf)`,
        );
        for (const e of legacy) insert.run(seal(e));
        return legacy.length;
      }).immediate(),
    );
  }

  private auditSize(): number {
    const row = this.sql('SELECT max(seq) AS last FROM audit_log').get() as Row;
    const archived = this.sql('SELECT archived_below FROM audit_state WHERE id = 1').get() as Row | undefined;
    return Math.max(row.last === null ? 0 : Number(row.last) + 1, Number(archived?.archived_below ?? 0));
  }

  /** The WHERE of a search; `at` qualifies the search columns, `entryAt` the entry's. */
  private auditWhere(filter: AuditFilter, at = '', entryAt = ''): { where: string[]; args: unknown[] } {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      where.push(sql);
      args.push(value);
    };
    if (filter.afterSeq !== undefined) add(`${at}seq > ?`, filter.afterSeq);
    if (filter.beforeSeq !== undefined) add(`${at}seq < ?`, filter.beforeSeq);
    // `tool.*`: every type under the prefix, matched by range so that the type index serves it.
    if (filter.type?.endsWith('.*')) {
      add(`${at}type > ?`, filter.type.slice(0, -1));
      add(`${at}type < ?`, `${filter.type.slice(0, -2)}/`);
    } else if (filter.type) add(`${at}type = ?`, filter.type);
    if (filter.outcome) add(`${at}outcome = ?`, filter.outcome);
    if (filter.agent) add(`${at}agent = ?`, filter.agent);
    if (filter.task) add(`${at}task = ?`, filter.task);
    if (filter.person) add(`${at}person = ?`, filter.person);
    if (filter.tool) add(`${at}tool = ?`, filter.tool);
    if (filter.subject) add(`json_extract(${entryAt}entry, '$.subject') = ?`, filter.subject);
    if (filter.since !== undefined) add(`${at}time >= ?`, filter.since);
    if (filter.until !== undefined) add(`${at}time <= ?`, filter.until);
    return { where, args };
  }

  /**
   * Entries below the index mark are found through `audit_search`'s indexes; the few above it
   * (appended in the last moments, not yet indexed) by scanning them. One read transaction, so
   * the two parts see one snapshot and meet exactly at the mark.
   */
  searchAudit(filter: AuditFilter): Promise<AuditRow[]> {
    return this.run(() =>
      this.db.transaction(() => {
        const limit = Math.min(Math.max(filter.limit ?? 100, 1), 10_000);
        const mark = this.auditIndexMark();
        const indexed = this.auditWhere(filter, 's.', 'a.');
        const found = this.sql(
          `SELECT a.* FROM audit_search s JOIN audit_log a ON a.seq = s.seq
           WHERE ${['s.seq < ?', ...indexed.where].join(' AND ')} ORDER BY s.seq LIMIT ?`,
        ).all(mark, ...indexed.args, limit) as Row[];
        if (found.length < limit) {
          const tail = this.auditWhere(filter);
          found.push(
            ...(this.sql(`SELECT * FROM audit_log WHERE ${['seq >= ?', ...tail.where].join(' AND ')} ORDER BY seq LIMIT ?`).all(
              mark,
              ...tail.args,
              limit - found.length,
            ) as Row[]),
          );
        }
        return found.map(toAuditRow);
      })(),
    );
  }

  async listEvents(filter: AuditFilter = {}): Promise<EventRecord[]> {
    return (await this.searchAudit({ limit: 1000, ...filter })).map(toEventFromAudit);
  }

  auditRange(from: number, to: number): Promise<AuditRow[]> {
    return this.run(() => (this.sql('SELECT * FROM audit_log WHERE seq >= ? AND seq < ? ORDER BY seq').all(from, to) as Row[]).map(toAuditRow));
  }

  auditLeaves(from: number, to: number): Promise<{ seq: number; leaf: Buffer }[]> {
    return this.run(() => (this.sql('SELECT seq, leaf FROM audit_log WHERE seq >= ? AND seq < ? ORDER BY seq').all(from, to) as Row[]).map(toLeaf));
  }

  auditState(): Promise<{ size: number; archivedBelow: number }> {
    return this.run(() => {
      const archived = this.sql('SELECT archived_below FROM audit_state WHERE id = 1').get() as Row | undefined;
      return { size: this.auditSize(), archivedBelow: Number(archived?.archived_below ?? 0) };
    });
  }

  putAuditNodes(nodes: readonly AuditNode[]): Promise<void> {
    return this.run(() => {
      const insert = this.sql('INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
      this.db.transaction(() => {
        for (const n of nodes) insert.run(n.level, n.index, n.hash);
      })();
    });
  }

  getAuditNodes(level: number, from: number, to: number): Promise<AuditNode[]> {
    return this.run(() =>
      (this.sql('SELECT * FROM audit_nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx').all(level, from, to) as Row[]).map(toAuditNode),
    );
  }

  insertCheckpoint(cp: StoredCheckpoint): Promise<void> {
    return this.run(() => {
      this.sql('INSERT INTO audit_checkpoints (size, time, root, note) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(cp.size, cp.time, cp.root, cp.note);
    });
  }

  listCheckpoints(filter: { fromSize?: number; limit?: number } = {}): Promise<StoredCheckpoint[]> {
    return this.run(() =>
      (this.sql('SELECT * FROM audit_checkpoints WHERE size >= ? ORDER BY size LIMIT ?').all(filter.fromSize ?? 0, Math.min(Math.max(filter.limit ?? 1000, 1), 100_000)) as Row[]).map(
        toCheckpoint,
      ),
    );
  }

  latestCheckpoint(): Promise<StoredCheckpoint | null> {
    return this.run(() => {
      const row = this.sql('SELECT * FROM audit_checkpoints ORDER BY size DESC LIMIT 1').get() as Row | undefined;
      return row ? toCheckpoint(row) : null;
    });
  }

  archiveAudit(below: number, nodes: readonly AuditNode[]): Promise<number> {
    return this.run(() =>
      this.db.transaction(() => {
        const insert = this.sql('INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
        for (const n of nodes) insert.run(n.level, n.index, n.hash);
        this.sql('UPDATE audit_state SET archived_below = max(archived_below, ?) WHERE id = 1').run(below);
        this.sql('DELETE FROM audit_search WHERE seq < ?').run(below);
        return this.sql('DELETE FROM audit_log WHERE seq < ?').run(below).changes;
      }).immediate(),
    );
  }

  getAuditCursor(name: string): Promise<number> {
    return this.run(() => {
      const row = this.sql('SELECT next_seq FROM audit_cursors WHERE name = ?').get(name) as Row | undefined;
      return row ? Number(row.next_seq) : 0;
    });
  }

  advanceAuditCursor(name: string, from: number, to: number, at: number): Promise<boolean> {
    return this.run(() => {
      const moved = this.sql('UPDATE audit_cursors SET next_seq = ?, updated_at = ? WHERE name = ? AND next_seq = ?').run(to, at, name, from).changes;
      if (moved === 1 || from !== 0) return moved === 1;
      return this.sql('INSERT INTO audit_cursors (name, next_seq, updated_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(name, to, at).changes === 1;
    });
  }

  getTaskFlow(taskId: string, digests: readonly string[] | 'all'): Promise<TaskFlow> {
    return this.run(() => {
      const flags = this.sql('SELECT untrusted_read, confidential_read, incomplete, revision FROM task_flow WHERE task_id = ?').get(taskId) as Row | undefined;
      const trusted: string[] = [];
      const untrusted: string[] = [];
      if (flags && (digests === 'all' || digests.length > 0)) {
        const rows =
          digests === 'all'
            ? this.sql('SELECT digest, trust FROM task_values WHERE task_id = ?').all(taskId)
            : this.sql('SELECT digest, trust FROM task_values WHERE task_id = ? AND digest IN (SELECT value FROM json_each(?))').all(taskId, JSON.stringify(digests));
        for (const r of rows as Row[]) (r.trust === 'trusted' ? trusted : untrusted).push(String(r.digest));
      }
      return {
        untrustedRead: flags?.untrusted_read === 1,
        confidentialRead: flags?.confidential_read === 1,
        incomplete: flags?.incomplete === 1,
        revision: Number(flags?.revision ?? 0),
        trusted,
        untrusted,
      };
    });
  }

  recordTaskFlow(taskId: string, update: TaskFlowUpdate, at: number, maxValues: number): Promise<{ revision: number }> {
    return this.run(() =>
      this.db.transaction(() => {
        const row = this.sql(
          `INSERT INTO task_flow (task_id, untrusted_read, confidential_read, incomplete, values_count, revision, updated_at)
           VALUES (@task, @u, @c, @i, 0, 1, @at)
           ON CONFLICT (task_id) DO UPDATE SET untrusted_read = max(untrusted_read, @u), confidential_read = max(confidential_read, @c),
             incomplete = max(incomplete, @i), revision = revision + 1, updated_at = @at
           RETURNING values_count, revision`,
        ).get({ task: taskId, u: update.untrustedRead ? 1 : 0, c: update.confidentialRead ? 1 : 0, i: update.incomplete ? 1 : 0, at }) as Row;
        const room = Math.max(0, maxValues - Number(row.values_count));
        let added = 0;
        let refused = false;
        const insert = this.sql('INSERT INTO task_values (task_id, digest, trust) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
        for (const v of update.values) {
          if (added >= room) {
            refused ||= v.trust === 'untrusted';
            continue;
          }
          added += insert.run(taskId, v.digest, v.trust).changes;
        }
        this.sql('UPDATE task_flow SET values_count = values_count + ?, incomplete = max(incomplete, ?) WHERE task_id = ?').run(added, refused ? 1 : 0, taskId);
        return { revision: Number(row.revision) };
      }).immediate(),
    );
  }

  // Approvals ----------------------------------------------------------------------------
  /** Rows of `approvals` with their decisions (oldest first), validated. */
  private withDecisions(rows: Row[]): Approval[] {
    if (rows.length === 0) return [];
    const byApproval = new Map<unknown, Row[]>(rows.map((r) => [r.id, []]));
    const decisions = this.sql(`SELECT * FROM approval_decisions WHERE approval_id IN (${rows.map(() => '?').join(', ')}) ORDER BY at, rowid`)
      .all(...rows.map((r) => r.id)) as Row[];
    for (const d of decisions) byApproval.get(d.approval_id)?.push(d);
    return rows.map((r) => toApproval(r, byApproval.get(r.id) ?? []));
  }

  private readApproval(id: string): Approval | null {
    const row = this.sql('SELECT * FROM approvals WHERE id = ?').get(id) as Row | undefined;
    return row ? (this.withDecisions([row])[0] ?? null) : null;
  }

  async getOrInsertApproval(a: Approval, now: number): Promise<{ approval: Approval; created: boolean }> {
    assertNewApproval(a);
    return this.run(() => {
      // IMMEDIATE: the write lock is taken before the read, so another process on the same
      // file cannot insert between our check and our insert.
      return this.db
        .transaction(() => {
          this.sql(
              `UPDATE approvals SET status = 'expired', resolved_at = expires_at
               WHERE task_id = ? AND args_digest = ? AND status IN ('pending', 'approved') AND expires_at <= ?`,
            )
            .run(a.taskId, a.argsDigest, now);
          const governing = this.sql(
              `SELECT * FROM approvals WHERE task_id = ? AND args_digest = ? AND status IN ('pending', 'approved', 'denied')
               AND expires_at > ? ORDER BY created_at DESC, id LIMIT 1`,
            )
            .get(a.taskId, a.argsDigest, now) as Row | undefined;
          if (governing) return { approval: this.withDecisions([governing])[0]!, created: false };
          this.sql(
              `INSERT INTO approvals (id, agent_id, task_id, action, args_digest, args, required, requester, self_approval, policies,
                 status, created_at, expires_at, resolved_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
            )
            .run(
              a.id,
              a.agentId,
              a.taskId,
              a.action,
              a.argsDigest,
              JSON.stringify(a.args),
              a.required,
              a.requester,
              a.selfApproval ? 1 : 0,
              JSON.stringify(a.policies),
              a.status,
              a.createdAt,
              a.expiresAt,
            );
          return { approval: this.readApproval(a.id)!, created: true };
        })
        .immediate();
    });
  }

  getApproval(id: ApprovalId): Promise<Approval | null> {
    return this.run(() => this.readApproval(id));
  }

  listApprovals(filter: ApprovalFilter = {}): Promise<Approval[]> {
    return this.run(() => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.status) {
        where.push('status = ?');
        args.push(filter.status);
      }
      if (filter.taskId) {
        where.push('task_id = ?');
        args.push(filter.taskId);
      }
      for (const [column, value] of [['agent_id', filter.agentId], ['action', filter.action], ['args_digest', filter.argsDigest]] as const) {
        if (value === undefined) continue;
        where.push(`${column} = ?`);
        args.push(value);
      }
      args.push(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
      const sql = `SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT ?`;
      return this.withDecisions(this.sql(sql).all(...args) as Row[]);
    });
  }

  decideApproval(id: ApprovalId, d: ApprovalDecision, now: number): Promise<ApprovalDecideOutcome> {
    return this.run(() =>
      this.db
        .transaction((): ApprovalDecideOutcome => {
          const row = this.sql('SELECT * FROM approvals WHERE id = ?').get(id) as Row | undefined;
          if (!row) return { kind: 'not_found' };
          if (row.status !== 'pending' || Number(row.expires_at) <= now) return { kind: 'closed', approval: this.readApproval(id)! };
          const inserted = this.sql('INSERT INTO approval_decisions (approval_id, person_id, decision, comment, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
            .run(id, d.personId, d.decision, d.comment, d.at);
          if (inserted.changes === 0) return { kind: 'already_decided', approval: this.readApproval(id)! };
          let status: ApprovalStatus | null = null;
          if (d.decision === 'deny') {
            status = 'denied';
          } else {
            // The requester's own approval does not count unless the policy allows it.
            const counted = this.sql(
                `SELECT count(*) AS n FROM approval_decisions d JOIN approvals a ON a.id = d.approval_id
                 WHERE d.approval_id = ? AND d.decision = 'approve'
                   AND (a.self_approval = 1 OR a.requester IS NULL OR d.person_id <> a.requester)`,
              )
              .get(id) as Row;
            if (Number(counted.n) >= Number(row.required)) status = 'approved';
          }
          if (status) this.sql('UPDATE approvals SET status = ?, resolved_at = ? WHERE id = ?').run(status, d.at, id);
          return { kind: 'recorded', approval: this.readApproval(id)!, resolved: status !== null };
        })
        .immediate(),
    );
  }

  consumeApproval(id: ApprovalId, now: number): Promise<{ consumed: boolean; approval: Approval | null }> {
    return this.run(() => {
      const res = this.sql("UPDATE approvals SET status = 'consumed' WHERE id = ? AND status = 'approved' AND expires_at > ?")
        .run(id, now);
      return { consumed: res.changes === 1, approval: this.readApproval(id) };
    });
  }

  expireApprovals(now: number): Promise<Approval[]> {
    return this.run(() =>
      this.db
        .transaction(() => {
          const ids = this.sql(
              `UPDATE approvals SET status = 'expired', resolved_at = expires_at
               WHERE status IN ('pending', 'approved') AND expires_at <= ? RETURNING id`,
            )
            .all(now) as Row[];
          return ids.map((r) => this.readApproval(String(r.id))!).sort((x, y) => x.createdAt - y.createdAt || x.id.localeCompare(y.id));
        })
        .immediate(),
    );
  }

  // Secrets ------------------------------------------------------------------------------
  insertSecretVersion(d: SecretVersionDraft, seal: (version: number) => SealedSecret): Promise<SecretVersion> {
    return this.run(() =>
      this.db
        .transaction(() => {
          // IMMEDIATE: the write lock is held from the read of the newest version on, so two
          // writers cannot both take the same next number.
          const newest = this.sql('SELECT max(version) AS v FROM secrets WHERE name = ?').get(d.name) as Row;
          const version = Number(newest.v ?? 0) + 1;
          const sealed = sealWith(seal, version);
          this.sql('UPDATE secrets SET not_after = ? WHERE name = ? AND (not_after IS NULL OR not_after > ?)')
            .run(d.previousNotAfter, d.name, d.previousNotAfter);
          const row = this.sql(
              `INSERT INTO secrets (name, version, ciphertext, nonce, key_id, created_at, not_after, created_by)
               VALUES (?, ?, ?, ?, ?, ?, NULL, ?) RETURNING *`,
            )
            .get(d.name, version, sealed.ciphertext, sealed.nonce, sealed.keyId, d.createdAt, JSON.stringify(d.createdBy)) as Row;
          return toSecretVersion(row);
        })
        .immediate(),
    );
  }

  getLiveSecretVersions(name: string, now: number): Promise<SecretVersion[]> {
    return this.run(() =>
      (
        this.sql('SELECT * FROM secrets WHERE name = ? AND (not_after IS NULL OR not_after > ?) ORDER BY version DESC')
          .all(name, now) as Row[]
      ).map(toSecretVersion),
    );
  }

  listLiveSecretVersions(now: number): Promise<SecretVersionMeta[]> {
    return this.run(() =>
      (
        this.sql(
            `SELECT name, version, key_id, created_at, not_after, created_by FROM secrets
             WHERE not_after IS NULL OR not_after > ? ORDER BY name, version DESC`,
          )
          .all(now) as Row[]
      ).map(toSecretVersionMeta),
    );
  }

  notifyRevocationsChanged(): Promise<void> {
    return Promise.resolve();
  }

  onRevocationsChanged(_listener: () => void): void {
    // One process owns a SQLite file: revocations made here are applied in memory directly.
  }

  listToolPins(server?: string): Promise<ToolPin[]> {
    return this.run(() => {
      const rows = (server === undefined
        ? this.sql('SELECT * FROM tool_pins ORDER BY server, tool').all()
        : this.sql('SELECT * FROM tool_pins WHERE server = ? ORDER BY tool').all(server)) as Row[];
      return rows.map(toToolPin);
    });
  }

  pinTool(pin: ToolPin): Promise<{ pin: ToolPin; created: boolean }> {
    const p = ToolPinSchema.parse(pin);
    return this.run(() =>
      this.db
        .transaction(() => {
          const created =
            this.sql(
                `INSERT INTO tool_pins (server, tool, digest, definition, status, pending_digest, pending_definition, first_seen_at, changed_at, accepted_at, accepted_by)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (server, tool) DO NOTHING`,
              )
              .run(
                p.server,
                p.tool,
                p.digest,
                JSON.stringify(p.definition),
                p.status,
                p.pendingDigest,
                p.pendingDefinition === null ? null : JSON.stringify(p.pendingDefinition),
                p.firstSeenAt,
                p.changedAt,
                p.acceptedAt,
                p.acceptedBy,
              ).changes === 1;
          const row = this.sql('SELECT * FROM tool_pins WHERE server = ? AND tool = ?').get(p.server, p.tool) as Row;
          return { pin: toToolPin(row), created };
        })
        .immediate(),
    );
  }

  flagToolChange(server: string, tool: string, digest: string, definition: ToolDefinition, now: number): Promise<{ pin: ToolPin; flagged: boolean } | null> {
    const def = ToolDefinitionSchema.parse(definition);
    return this.run(() =>
      this.db
        .transaction(() => {
          const flagged =
            this.sql(
                `UPDATE tool_pins SET status = 'changed', pending_digest = ?, pending_definition = ?, changed_at = ?
                 WHERE server = ? AND tool = ? AND digest <> ? AND (pending_digest IS NULL OR pending_digest <> ?)`,
              )
              .run(digest, JSON.stringify(def), now, server, tool, digest, digest).changes === 1;
          const row = this.sql('SELECT * FROM tool_pins WHERE server = ? AND tool = ?').get(server, tool) as Row | undefined;
          return row ? { pin: toToolPin(row), flagged } : null;
        })
        .immediate(),
    );
  }

  acceptToolChange(server: string, tool: string, pendingDigest: string, by: PersonId, now: number): Promise<ToolPin | null> {
    return this.run(() =>
      this.db
        .transaction(() => {
          const changed = this.sql(
              `UPDATE tool_pins SET digest = pending_digest, definition = pending_definition, status = 'accepted',
                 pending_digest = NULL, pending_definition = NULL, accepted_at = ?, accepted_by = ?
               WHERE server = ? AND tool = ? AND status = 'changed' AND pending_digest = ?`,
            )
            .run(now, by, server, tool, pendingDigest).changes;
          if (changed !== 1) return null;
          return toToolPin(this.sql('SELECT * FROM tool_pins WHERE server = ? AND tool = ?').get(server, tool) as Row);
        })
        .immediate(),
    );
  }

  chargeTask(taskId: TaskId, charge: TaskUsage, budget: TaskBudget | null): Promise<{ ok: boolean; usage: TaskUsage }> {
    return this.run(() => {
      // One upsert whose WHERE applies the budget to the usage as stored: no read-then-write.
      if (budget && !withinBudget({ calls: 0, bytesOut: 0, bytesIn: 0 }, charge, budget)) return { ok: false, usage: this.usageOf(taskId) };
      const row = this.sql(
        `INSERT INTO task_usage AS u (task_id, calls, bytes_out, bytes_in) VALUES (@task, @calls, @out, @in)
         ON CONFLICT (task_id) DO UPDATE SET calls = u.calls + @calls, bytes_out = u.bytes_out + @out, bytes_in = u.bytes_in + @in
         WHERE (@maxCalls IS NULL OR u.calls + @calls <= @maxCalls)
           AND (@maxOut IS NULL OR u.bytes_out + @out <= @maxOut)
           AND (@maxIn IS NULL OR u.bytes_in + @in < @maxIn OR (@calls = 0 AND @out = 0))
         RETURNING calls, bytes_out, bytes_in`,
      ).get({
        task: taskId,
        calls: charge.calls,
        out: charge.bytesOut,
        in: charge.bytesIn,
        maxCalls: budget?.calls ?? null,
        maxOut: budget?.bytesOut ?? null,
        maxIn: budget?.bytesIn ?? null,
      }) as Row | undefined;
      return row ? { ok: true, usage: toTaskUsage(row) } : { ok: false, usage: this.usageOf(taskId) };
    });
  }

  private usageOf(taskId: TaskId): TaskUsage {
    return toTaskUsage(this.sql('SELECT * FROM task_usage WHERE task_id = ?').get(taskId) as Row | undefined);
  }

  getTaskUsage(taskId: TaskId): Promise<TaskUsage> {
    return this.run(() => toTaskUsage(this.sql('SELECT * FROM task_usage WHERE task_id = ?').get(taskId) as Row | undefined));
  }
}
