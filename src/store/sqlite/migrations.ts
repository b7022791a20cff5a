/**
 * Versioned schema of the SQLite store. Append only: a shipped migration is never edited, a
 * change is a new version. Each runs in its own transaction together with its bookkeeping row.
 */
export const SQLITE_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'identity core',
    sql: `
      CREATE TABLE persons (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT UNIQUE,
        roles TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        person_id TEXT NOT NULL REFERENCES persons(id),
        label TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT;
      CREATE INDEX api_keys_person ON api_keys(person_id);

      CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        owner TEXT NOT NULL,
        purpose TEXT NOT NULL,
        risk_category TEXT NOT NULL,
        status TEXT NOT NULL,
        capabilities TEXT NOT NULL,
        max_task_lifetime_sec INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE agent_keys (
        jkt TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        jwk TEXT NOT NULL,
        alg TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        retired_at INTEGER
      ) STRICT;
      CREATE INDEX agent_keys_agent ON agent_keys(agent_id);

      CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        purpose TEXT NOT NULL,
        scope TEXT NOT NULL,
        on_behalf_of TEXT,
        ticket TEXT,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        ended_at INTEGER,
        end_reason TEXT
      ) STRICT;
      CREATE INDEX tasks_agent ON tasks(agent_id, created_at);

      CREATE TABLE revocations (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        lifted_at INTEGER,
        PRIMARY KEY (kind, value)
      ) STRICT;

      CREATE TABLE one_time_values (
        namespace TEXT NOT NULL,
        key TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (namespace, key)
      ) STRICT;
      CREATE INDEX one_time_values_expiry ON one_time_values(expires_at);

      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        public_jwk TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        retired_at INTEGER,
        verify_until INTEGER
      ) STRICT;

      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        type TEXT NOT NULL,
        outcome TEXT NOT NULL,
        actor TEXT NOT NULL,
        subject TEXT,
        data TEXT NOT NULL
      ) STRICT;
      CREATE INDEX events_type ON events(type, seq);
      CREATE INDEX events_subject ON events(subject, seq);

      -- Append-only: the event record refuses edits and deletions at the database itself.
      CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    `,
  },
  {
    version: 2,
    name: 'approvals',
    sql: `
      -- No foreign key to tasks: a held task grant (action start_task) names a task not yet
      -- granted.
      CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        task_id TEXT NOT NULL,
        action TEXT NOT NULL,
        args_digest TEXT NOT NULL,
        args TEXT NOT NULL,
        required INTEGER NOT NULL CHECK (required >= 1),
        requester TEXT,
        self_approval INTEGER NOT NULL CHECK (self_approval IN (0, 1)),
        policies TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'consumed')),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        resolved_at INTEGER
      ) STRICT;
      -- At most one open approval per call: identical calls held at once share it.
      CREATE UNIQUE INDEX approvals_open_call ON approvals(task_id, args_digest) WHERE status IN ('pending', 'approved');
      CREATE INDEX approvals_call ON approvals(task_id, args_digest, created_at);
      CREATE INDEX approvals_open_expiry ON approvals(expires_at) WHERE status IN ('pending', 'approved');
      CREATE INDEX approvals_created ON approvals(created_at);
      CREATE INDEX approvals_status ON approvals(status, created_at);

      -- One decision per person and approval, enforced by the key.
      CREATE TABLE approval_decisions (
        approval_id TEXT NOT NULL REFERENCES approvals(id),
        person_id TEXT NOT NULL REFERENCES persons(id),
        decision TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),
        comment TEXT,
        at INTEGER NOT NULL,
        PRIMARY KEY (approval_id, person_id)
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'secrets',
    sql: `
      -- Upstream credentials, sealed with AES-256-GCM under the master key (which is never
      -- here). A version is live while not_after is NULL or in the future; rows are never
      -- deleted, so version numbers are never reused.
      CREATE TABLE secrets (
        name TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        ciphertext BLOB NOT NULL,
        nonce BLOB NOT NULL CHECK (length(nonce) = 12),
        key_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        not_after INTEGER,
        created_by TEXT NOT NULL,
        PRIMARY KEY (name, version)
      ) STRICT;
    `,
  },
  {
    version: 4,
    name: 'gateway: tool pins and task usage',
    sql: `
      -- The definition of each upstream tool as first seen or last accepted; a differing
      -- definition waits in pending_* until an admin accepts it.
      CREATE TABLE tool_pins (
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        digest TEXT NOT NULL,
        definition TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'changed')),
        pending_digest TEXT,
        pending_definition TEXT,
        first_seen_at INTEGER NOT NULL,
        changed_at INTEGER,
        accepted_at INTEGER NOT NULL,
        accepted_by TEXT REFERENCES persons(id),
        PRIMARY KEY (server, tool)
      ) STRICT;

      -- What each task used of its budget, charged before each call is forwarded.
      CREATE TABLE task_usage (
        task_id TEXT PRIMARY KEY REFERENCES tasks(id),
        calls INTEGER NOT NULL DEFAULT 0,
        bytes_out INTEGER NOT NULL DEFAULT 0,
        bytes_in INTEGER NOT NULL DEFAULT 0
      ) STRICT;
    `,
  },
  {
    version: 5,
    name: 'audit: Merkle log, tree nodes, checkpoints',
    sql: `
      -- The audit log (DESIGN.md "Audit log"). entry is the canonical JSON that was hashed into
      -- leaf; the other columns repeat fields of it for indexed search, and verification checks
      -- that they agree. It supersedes events, whose rows are imported once at start-up.
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        type TEXT NOT NULL,
        outcome TEXT NOT NULL,
        agent TEXT,
        task TEXT,
        person TEXT,
        tool TEXT,
        entry TEXT NOT NULL,
        leaf BLOB NOT NULL CHECK (length(leaf) = 32)
      ) STRICT;
      CREATE INDEX audit_log_time ON audit_log(time);
      CREATE INDEX audit_log_type ON audit_log(type, seq);
      CREATE INDEX audit_log_agent ON audit_log(agent, seq) WHERE agent IS NOT NULL;
      CREATE INDEX audit_log_task ON audit_log(task, seq) WHERE task IS NOT NULL;
      CREATE INDEX audit_log_person ON audit_log(person, seq) WHERE person IS NOT NULL;
      CREATE INDEX audit_log_tool ON audit_log(tool, seq) WHERE tool IS NOT NULL;

      -- archived_below: entries under it have left the database with a checkpoint (retention).
      CREATE TABLE audit_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        archived_below INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      INSERT INTO audit_state (id, archived_below) VALUES (1, 0);

      -- Append-only: no edits ever; deletions only below the archive mark, which only grows.
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        WHEN OLD.seq >= (SELECT archived_below FROM audit_state WHERE id = 1)
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
      CREATE TRIGGER audit_state_grows BEFORE UPDATE ON audit_state
        WHEN NEW.archived_below < OLD.archived_below
        BEGIN SELECT RAISE(ABORT, 'the archive mark only grows'); END;

      -- Hashes of complete aligned subtrees (2^level leaves at index): tiles every 8 levels,
      -- and the subtrees that stand for archived entries. Derived data: verify never trusts it.
      CREATE TABLE audit_nodes (
        level INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        hash BLOB NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (level, idx)
      ) STRICT, WITHOUT ROWID;

      -- How far each exporter (OTLP, OCSF) has shipped the log: the next seq to send.
      CREATE TABLE audit_cursors (
        name TEXT PRIMARY KEY,
        next_seq INTEGER NOT NULL CHECK (next_seq >= 0),
        updated_at INTEGER NOT NULL
      ) STRICT;

      -- Signed checkpoints (C2SP tlog-checkpoint signed notes), one per tree size.
      CREATE TABLE audit_checkpoints (
        size INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        root BLOB NOT NULL CHECK (length(root) = 32),
        note TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 6,
    name: 'flow: task flow labels and argument provenance',
    sql: `
      -- Monotone flow labels of each task (DESIGN.md "Flow control"): set once something
      -- untrusted or confidential was read, never cleared while the task lives.
      CREATE TABLE task_flow (
        task_id TEXT PRIMARY KEY REFERENCES tasks(id),
        untrusted_read INTEGER NOT NULL DEFAULT 0,
        confidential_read INTEGER NOT NULL DEFAULT 0,
        -- Untrusted values were not all kept (bounds): an unflagged argument may still be from them.
        incomplete INTEGER NOT NULL DEFAULT 0,
        values_count INTEGER NOT NULL DEFAULT 0,
        -- Bumped by every write, so a replica knows whether its cached view is still current.
        revision INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL
      ) STRICT;

      -- Values the task has seen (keyed digests, never plaintext), by where they came from:
      -- the person's own request and trusted results, or untrusted content.
      CREATE TABLE task_values (
        task_id TEXT NOT NULL REFERENCES tasks(id),
        digest TEXT NOT NULL,
        trust TEXT NOT NULL CHECK (trust IN ('trusted', 'untrusted')),
        PRIMARY KEY (task_id, digest, trust)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: 'audit: search columns indexed behind the log',
    sql: `
      -- Six indexes on audit_log made every append write seven B-trees, a WAL page each, on the
      -- path of every call. The log itself now carries only its primary key; its search columns
      -- are copied into audit_search in batches, behind the log (SqliteStore.indexAudit), and
      -- searches read audit_search below indexed_below and scan the few entries above it.
      CREATE TABLE audit_search (
        seq INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        type TEXT NOT NULL,
        outcome TEXT NOT NULL,
        agent TEXT,
        task TEXT,
        person TEXT,
        tool TEXT
      ) STRICT;
      INSERT INTO audit_search (seq, time, type, outcome, agent, task, person, tool)
        SELECT seq, time, type, outcome, agent, task, person, tool FROM audit_log;
      DROP INDEX audit_log_time;
      DROP INDEX audit_log_type;
      DROP INDEX audit_log_agent;
      DROP INDEX audit_log_task;
      DROP INDEX audit_log_person;
      DROP INDEX audit_log_tool;
      CREATE INDEX audit_search_time ON audit_search(time);
      CREATE INDEX audit_search_type ON audit_search(type, seq);
      CREATE INDEX audit_search_agent ON audit_search(agent, seq) WHERE agent IS NOT NULL;
      CREATE INDEX audit_search_task ON audit_search(task, seq) WHERE task IS NOT NULL;
      CREATE INDEX audit_search_person ON audit_search(person, seq) WHERE person IS NOT NULL;
      CREATE INDEX audit_search_tool ON audit_search(tool, seq) WHERE tool IS NOT NULL;
      -- Every entry under indexed_below is in audit_search.
      CREATE TABLE audit_search_mark (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        indexed_below INTEGER NOT NULL
      ) STRICT;
      INSERT INTO audit_search_mark (id, indexed_below)
        SELECT 1, coalesce(max(seq) + 1, 0) FROM audit_log;
    `,
  },
];
