/**
 * Versioned schema of the PostgreSQL store. Append only: a shipped migration is never edited, a
 * change is a new version. Each runs in its own transaction together with its bookkeeping row,
 * under an advisory lock held by the replica that migrates.
 *
 * Times are BIGINT milliseconds (they overflow INTEGER), JSON is JSONB so the database itself
 * refuses text that is not JSON.
 */
export const POSTGRES_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'identity core',
    sql: `
      CREATE TABLE persons (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT UNIQUE,
        roles JSONB NOT NULL,
        status TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );

      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        person_id TEXT NOT NULL REFERENCES persons(id),
        label TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      );
      CREATE INDEX api_keys_person ON api_keys(person_id);

      CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        owner TEXT NOT NULL,
        purpose TEXT NOT NULL,
        risk_category TEXT NOT NULL,
        status TEXT NOT NULL,
        capabilities JSONB NOT NULL,
        max_task_lifetime_sec BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );

      CREATE TABLE agent_keys (
        jkt TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        jwk JSONB NOT NULL,
        alg TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        retired_at BIGINT
      );
      CREATE INDEX agent_keys_agent ON agent_keys(agent_id);

      CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        purpose TEXT NOT NULL,
        scope JSONB NOT NULL,
        on_behalf_of JSONB,
        ticket TEXT,
        status TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        ended_at BIGINT,
        end_reason TEXT
      );
      CREATE INDEX tasks_agent ON tasks(agent_id, created_at);
      CREATE INDEX tasks_created ON tasks(created_at);

      CREATE TABLE revocations (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        lifted_at BIGINT,
        PRIMARY KEY (kind, value)
      );

      CREATE TABLE one_time_values (
        namespace TEXT NOT NULL,
        key TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (namespace, key)
      );
      CREATE INDEX one_time_values_expiry ON one_time_values(expires_at);

      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        public_jwk JSONB NOT NULL,
        created_at BIGINT NOT NULL,
        retired_at BIGINT,
        verify_until BIGINT
      );

      CREATE TABLE events (
        seq BIGINT PRIMARY KEY,
        time BIGINT NOT NULL,
        type TEXT NOT NULL,
        outcome TEXT NOT NULL,
        actor JSONB NOT NULL,
        subject TEXT,
        data JSONB NOT NULL
      );
      CREATE INDEX events_type ON events(type, seq);
      CREATE INDEX events_subject ON events(subject, seq);

      -- Append-only: the event record refuses edits and deletions at the database itself.
      -- TRUNCATE skips row triggers, so it gets a statement trigger of its own.
      CREATE FUNCTION warden_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'events are append-only';
        END
      $$;
      CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION warden_events_append_only();
      CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION warden_events_append_only();
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
        args JSONB NOT NULL,
        required INTEGER NOT NULL CHECK (required >= 1),
        requester TEXT,
        self_approval BOOLEAN NOT NULL,
        policies JSONB NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'consumed')),
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        resolved_at BIGINT
      );
      -- At most one open approval per call: identical calls held at once, on any replica,
      -- share it (INSERT … ON CONFLICT against this index).
      CREATE UNIQUE INDEX approvals_open_call ON approvals(task_id, args_digest) WHERE status IN ('pending', 'approved');
      CREATE INDEX approvals_call ON approvals(task_id, args_digest, created_at);
      CREATE INDEX approvals_open_expiry ON approvals(expires_at) WHERE status IN ('pending', 'approved');
      CREATE INDEX approvals_created ON approvals(created_at);
      CREATE INDEX approvals_status ON approvals(status, created_at);

      -- One decision per person and approval, enforced by the key; n keeps their order.
      CREATE TABLE approval_decisions (
        approval_id TEXT NOT NULL REFERENCES approvals(id),
        person_id TEXT NOT NULL REFERENCES persons(id),
        decision TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),
        comment TEXT,
        at BIGINT NOT NULL,
        n BIGINT GENERATED ALWAYS AS IDENTITY,
        PRIMARY KEY (approval_id, person_id)
      );
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
        ciphertext BYTEA NOT NULL,
        nonce BYTEA NOT NULL CHECK (octet_length(nonce) = 12),
        key_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        not_after BIGINT,
        created_by JSONB NOT NULL,
        PRIMARY KEY (name, version)
      );
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
        definition JSONB NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'changed')),
        pending_digest TEXT,
        pending_definition JSONB,
        first_seen_at BIGINT NOT NULL,
        changed_at BIGINT,
        accepted_at BIGINT NOT NULL,
        accepted_by TEXT REFERENCES persons(id),
        PRIMARY KEY (server, tool)
      );

      -- What each task used of its budget, charged before each call is forwarded.
      CREATE TABLE task_usage (
        task_id TEXT PRIMARY KEY REFERENCES tasks(id),
        calls BIGINT NOT NULL DEFAULT 0,
        bytes_out BIGINT NOT NULL DEFAULT 0,
        bytes_in BIGINT NOT NULL DEFAULT 0
      );
    `,
  },
  {
    version: 5,
    name: 'audit: Merkle log, tree nodes, checkpoints',
    sql: `
      -- The audit log (DESIGN.md "Audit log"). entry is the canonical JSON that was hashed into
      -- leaf (TEXT, not JSONB: the exact bytes matter); the other columns repeat fields of it
      -- for indexed search, and verification checks that they agree. It supersedes events,
      -- whose rows are imported once at start-up.
      CREATE TABLE audit_log (
        seq BIGINT PRIMARY KEY,
        time BIGINT NOT NULL,
        type TEXT NOT NULL,
        outcome TEXT NOT NULL,
        agent TEXT,
        task TEXT,
        person TEXT,
        tool TEXT,
        entry TEXT NOT NULL,
        leaf BYTEA NOT NULL CHECK (octet_length(leaf) = 32)
      );
      CREATE INDEX audit_log_time ON audit_log(time);
      CREATE INDEX audit_log_type ON audit_log(type, seq);
      CREATE INDEX audit_log_agent ON audit_log(agent, seq) WHERE agent IS NOT NULL;
      CREATE INDEX audit_log_task ON audit_log(task, seq) WHERE task IS NOT NULL;
      CREATE INDEX audit_log_person ON audit_log(person, seq) WHERE person IS NOT NULL;
      CREATE INDEX audit_log_tool ON audit_log(tool, seq) WHERE tool IS NOT NULL;

      -- archived_below: entries under it have left the database with a checkpoint (retention).
      CREATE TABLE audit_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        archived_below BIGINT NOT NULL DEFAULT 0
      );
      INSERT INTO audit_state (id, archived_below) VALUES (1, 0);

      -- Append-only: no edits ever; deletions only below the archive mark, which only grows.
      CREATE FUNCTION warden_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            IF OLD.seq < (SELECT archived_below FROM audit_state WHERE id = 1) THEN
              RETURN OLD;
            END IF;
          END IF;
          RAISE EXCEPTION 'audit entries are append-only';
        END
      $$;
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION warden_audit_append_only();
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION warden_audit_append_only();
      CREATE FUNCTION warden_audit_mark_grows() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.archived_below < OLD.archived_below THEN
            RAISE EXCEPTION 'the archive mark only grows';
          END IF;
          RETURN NEW;
        END
      $$;
      CREATE TRIGGER audit_state_grows BEFORE UPDATE ON audit_state
        FOR EACH ROW EXECUTE FUNCTION warden_audit_mark_grows();

      -- Hashes of complete aligned subtrees (2^level leaves at idx): tiles every 8 levels, and
      -- the subtrees that stand for archived entries. Derived data: verify never trusts it.
      CREATE TABLE audit_nodes (
        level INTEGER NOT NULL,
        idx BIGINT NOT NULL,
        hash BYTEA NOT NULL CHECK (octet_length(hash) = 32),
        PRIMARY KEY (level, idx)
      );

      -- How far each exporter (OTLP, OCSF) has shipped the log: the next seq to send.
      CREATE TABLE audit_cursors (
        name TEXT PRIMARY KEY,
        next_seq BIGINT NOT NULL CHECK (next_seq >= 0),
        updated_at BIGINT NOT NULL
      );

      -- Signed checkpoints (C2SP tlog-checkpoint signed notes), one per tree size.
      CREATE TABLE audit_checkpoints (
        size BIGINT PRIMARY KEY,
        time BIGINT NOT NULL,
        root BYTEA NOT NULL CHECK (octet_length(root) = 32),
        note TEXT NOT NULL
      );
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
        untrusted_read BOOLEAN NOT NULL DEFAULT false,
        confidential_read BOOLEAN NOT NULL DEFAULT false,
        -- Untrusted values were not all kept (bounds): an unflagged argument may still be from them.
        incomplete BOOLEAN NOT NULL DEFAULT false,
        values_count BIGINT NOT NULL DEFAULT 0,
        -- Bumped by every write, so a replica knows whether its cached view is still current.
        revision BIGINT NOT NULL DEFAULT 0,
        updated_at BIGINT NOT NULL
      );

      -- Values the task has seen (keyed digests, never plaintext), by where they came from:
      -- the person's own request and trusted results, or untrusted content.
      CREATE TABLE task_values (
        task_id TEXT NOT NULL REFERENCES tasks(id),
        digest TEXT NOT NULL,
        trust TEXT NOT NULL CHECK (trust IN ('trusted', 'untrusted')),
        PRIMARY KEY (task_id, digest, trust)
      );
    `,
  },
];
