import type {
  Agent,
  AgentId,
  AgentKey,
  AgentStatus,
  ApiKeyId,
  ApiKeyRecord,
  Approval,
  ApprovalDecision,
  ApprovalId,
  ApprovalStatus,
  AuditFilter,
  AuditNode,
  AuditRow,
  EventRecord,
  PlacedEvent,
  TaskFlow,
  TaskFlowUpdate,
  StoredCheckpoint,
  Person,
  PersonId,
  Revocation,
  RevocationKind,
  SealedSecret,
  SecretVersion,
  SecretVersionDraft,
  SecretVersionMeta,
  SigningKeyRecord,
  Task,
  TaskId,
  TaskStatus,
  TaskUsage,
  ToolDefinition,
  ToolPin,
} from '../domain/index.js';

/**
 * The store port. Only `store/` touches a database; everything else speaks to this interface.
 * The SQLite and PostgreSQL adapters are written independently and pass ONE contract suite
 * (`test/store-contract.ts`).
 *
 * Contracts every adapter MUST keep:
 * - Every method resolves only once its write is durable in the database (committed).
 * - Rows read back are validated with the domain schemas; a row that does not parse rejects
 *   with `WardenError('INTERNAL')` rather than handing unchecked data to the caller.
 * - A database that cannot be reached rejects with `WardenError('STORE_UNAVAILABLE')`.
 * - Unique violations named below reject with `WardenError('CONFLICT')`.
 * - Times are integer milliseconds since the Unix epoch. Something that expires at `t` is
 *   expired at `now === t` (revocations, one-time values, signing keys, approvals alike).
 * - Lists come oldest first (persons, agents, agent keys, signing keys), except `listTasks`
 *   and `listApprovals`, newest first so that `limit` keeps the recent ones; events in `seq`
 *   order.
 * - Retiring what is already retired keeps the first retirement time.
 * - Text never holds NUL characters (PostgreSQL cannot store them); the HTTP edge rejects them.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  /** Applies pending versioned migrations; safe to call from several replicas at once. */
  migrate(): Promise<{ applied: number[]; current: number }>;
  close(): Promise<void>;

  // People and their API keys ------------------------------------------------------------
  /** Rejects with CONFLICT when the email is taken. */
  insertPerson(person: Person): Promise<void>;
  getPerson(id: PersonId): Promise<Person | null>;
  listPersons(): Promise<Person[]>;
  countPersons(): Promise<number>;
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  getApiKey(id: ApiKeyId): Promise<ApiKeyRecord | null>;
  /** Sets `revokedAt` on every key of the person not yet revoked; resolves to how many. */
  revokeApiKeysOf(personId: PersonId, at: number): Promise<number>;

  // Agents and keys ----------------------------------------------------------------------
  /**
   * Inserts the agent with its first keys in one transaction. Rejects with CONFLICT when the
   * name or a key thumbprint is taken (by any agent, retired ones included).
   */
  insertAgent(agent: Agent, keys: AgentKey[]): Promise<void>;
  getAgent(id: AgentId): Promise<Agent | null>;
  getAgentByName(name: string): Promise<Agent | null>;
  listAgents(filter?: { status?: AgentStatus }): Promise<Agent[]>;
  /** Resolves to the updated agent, or null when it does not exist. */
  setAgentStatus(id: AgentId, status: AgentStatus, at: number): Promise<Agent | null>;
  /** Rejects with CONFLICT when the thumbprint is already registered. */
  insertAgentKey(key: AgentKey): Promise<void>;
  listAgentKeys(agentId: AgentId): Promise<AgentKey[]>;
  getAgentKey(jkt: string): Promise<AgentKey | null>;
  /** Resolves to the updated key, or null when the agent has no such key. */
  retireAgentKey(agentId: AgentId, jkt: string, at: number): Promise<AgentKey | null>;

  // Tasks --------------------------------------------------------------------------------
  insertTask(task: Task): Promise<void>;
  getTask(id: TaskId): Promise<Task | null>;
  listTasks(filter?: { agentId?: AgentId; status?: TaskStatus; limit?: number }): Promise<Task[]>;
  /**
   * Ends an active task (`completed` or `revoked`). Resolves to the task as it now is, or null
   * when it does not exist. A task that has already ended is returned unchanged.
   */
  endTask(id: TaskId, status: Exclude<TaskStatus, 'active'>, reason: string, at: number): Promise<Task | null>;

  // Revocations --------------------------------------------------------------------------
  /** Inserts or re-activates (clears `liftedAt`) the revocation of (kind, value). */
  upsertRevocation(rev: Revocation): Promise<void>;
  /** Lifts a revocation (an agent suspension, when an agent resumes); resolves to whether one was not yet lifted. */
  liftRevocation(kind: RevocationKind, value: string, at: number): Promise<boolean>;
  /** Every revocation neither lifted nor expired at `now`. */
  listActiveRevocations(now: number): Promise<Revocation[]>;

  // One-time values (client assertion jti) ------------------------------------------------
  /**
   * Remembers `key` in `namespace` until `expiresAt`. Resolves to false when it was already
   * remembered and not yet expired: the caller treats that as a replay. Atomic across replicas.
   */
  rememberOnce(namespace: string, key: string, expiresAt: number, now: number): Promise<boolean>;

  // Warden's signing keys (public halves) --------------------------------------------------
  insertSigningKey(key: SigningKeyRecord): Promise<void>;
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  retireSigningKey(kid: string, at: number, verifyUntil: number): Promise<void>;

  // Audit log --------------------------------------------------------------------------------
  // The rows of the Merkle-tree audit log (audit/). The store keeps rows; hashing, trees and
  // signatures live in audit/ and reach the store only as bytes.

  /**
   * Appends `drafts` as consecutive entries after the last one, in ONE transaction, and resolves
   * once it is committed. `seal` builds each row at its sequence number (0, 1, 2, … without
   * gaps, across replicas) and MUST be pure: it may run again if the transaction is retried.
   */
  appendAudit<D>(drafts: readonly D[], seal: (draft: D, seq: number) => AuditRow): Promise<AuditRow[]>;
  /**
   * Once, at start-up: appends the rows of the superseded `events` table that the log does not
   * hold yet (by seq), sealed with `seal`. Atomic; resolves to how many it appended.
   */
  importLegacyEvents(seal: (event: PlacedEvent) => AuditRow): Promise<number>;
  /** Entries matching `filter`, in `seq` order (at most `limit`, default 100, at most 10,000). */
  searchAudit(filter: AuditFilter): Promise<AuditRow[]>;
  /** Entries parsed back into events, in `seq` order; rejects with INTERNAL on a row that does not parse. */
  listEvents(filter?: AuditFilter): Promise<EventRecord[]>;
  /** Rows with `from <= seq < to`, in `seq` order; archived or missing rows are simply absent. */
  auditRange(from: number, to: number): Promise<AuditRow[]>;
  /** The leaf hashes of rows with `from <= seq < to`, by seq (proofs read these, not whole rows). */
  auditLeaves(from: number, to: number): Promise<{ seq: number; leaf: Buffer }[]>;
  /** `size`: one past the last seq (0 when empty); `archivedBelow`: the retention mark. */
  auditState(): Promise<{ size: number; archivedBelow: number }>;
  /** Stores subtree hashes; a node already stored is kept as it is. */
  putAuditNodes(nodes: readonly AuditNode[]): Promise<void>;
  /** Stored nodes of `level` with `from <= index < to`, by index; missing ones are absent. */
  getAuditNodes(level: number, from: number, to: number): Promise<AuditNode[]>;
  /** Stores a checkpoint; one already stored at that size is kept as it is. */
  insertCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  /** Checkpoints by size, ascending, with `size >= fromSize` (at most `limit`, default 1,000). */
  listCheckpoints(filter?: { fromSize?: number; limit?: number }): Promise<StoredCheckpoint[]>;
  latestCheckpoint(): Promise<StoredCheckpoint | null>;
  /**
   * Retention: stores `nodes` (the subtrees that stand for the entries below `below`), raises
   * the archive mark to `below` and deletes those entries, atomically. The caller has checked
   * that a signed checkpoint covers them and that they are exported.
   */
  archiveAudit(below: number, nodes: readonly AuditNode[]): Promise<number>;
  /** The next seq exporter `name` will send (0 when it never sent anything). */
  getAuditCursor(name: string): Promise<number>;
  /**
   * Moves exporter `name` from `from` to `to`, only if it is still at `from` (so that of two
   * replicas shipping the same batch, one wins); resolves to whether it moved.
   */
  advanceAuditCursor(name: string, from: number, to: number, at: number): Promise<boolean>;

  // Flow of a task (toxic-flow defense) ----------------------------------------------------
  /**
   * The task's labels (false, revision 0 when nothing was recorded) and which of `digests` it
   * has seen, from where (`'all'`: every value it has seen).
   */
  getTaskFlow(taskId: string, digests: readonly string[] | 'all'): Promise<TaskFlow>;
  /**
   * Raises the task's labels (never lowers them) and remembers `values`, atomically. Once the
   * task holds `maxValues` values, further new ones are not kept (the labels still rise).
   */
  recordTaskFlow(taskId: string, update: TaskFlowUpdate, at: number, maxValues: number): Promise<{ revision: number }>;

  // Approvals (held calls) ---------------------------------------------------------------
  // An approval is *open* while it is pending, or approved and not yet consumed, and not
  // expired at `now`. It *governs* its call (task, args digest) while it is open, or denied and
  // not yet expired: a denial sticks until the approval's expiry, so an agent cannot pester
  // approvers by retrying a call they refused. The approval's `agentId` MUST exist.

  /**
   * Resolves to the approval that governs `candidate`'s call (same task and args digest) at
   * `now`, inserting `candidate` when none does. Of any number of concurrent callers with the
   * same call, on any replica, exactly one gets `created: true` and all get the same approval:
   * at most one open approval per call is enforced by the database itself. A pending or
   * approved approval already expired at `now` no longer governs; it is marked `expired`.
   * `candidate` MUST be pending, without decisions.
   */
  getOrInsertApproval(candidate: Approval, now: number): Promise<{ approval: Approval; created: boolean }>;
  /** The approval as stored, decisions oldest first. Expiry is not applied: see `expireApprovals`. */
  getApproval(id: ApprovalId): Promise<Approval | null>;
  /** Newest first; `limit` defaults to 100 and is capped at 1000. Filters combine with AND. */
  listApprovals(filter?: ApprovalFilter): Promise<Approval[]>;
  /**
   * Records one person's decision on a pending approval and resolves it, in one transaction
   * that concurrent callers on any replica go through one at a time:
   * - a `deny` moves it to `denied`;
   * - an `approve` moves it to `approved` once the approvals that count reach `required` (the
   *   requester's own approval counts only when `selfApproval`);
   * - `resolvedAt` is set to `decision.at` when either happens, and `resolved` says this call
   *   did it (exactly one caller sees `resolved: true` per approval).
   * An approval that is not pending, or pending but expired at `now`, is `closed` (and left as
   * it is: `expireApprovals` marks it). A person decides an approval at most once:
   * `already_decided`, and nothing changes.
   */
  decideApproval(id: ApprovalId, decision: ApprovalDecision, now: number): Promise<ApprovalDecideOutcome>;
  /**
   * Moves an approved approval not expired at `now` to `consumed`. Resolves with
   * `consumed: true` for exactly one caller per approval; `approval` is the row as it now is
   * (null when there is no such approval).
   */
  consumeApproval(id: ApprovalId, now: number): Promise<{ consumed: boolean; approval: Approval | null }>;
  /**
   * Marks `expired` every pending or approved approval whose `expiresAt <= now`, setting
   * `resolvedAt` to its `expiresAt`. Resolves to the approvals this call expired: each expiry
   * is reported to exactly one caller, across replicas.
   */
  expireApprovals(now: number): Promise<Approval[]>;

  // Gateway: tool pins (MCP tool definitions as first seen or accepted) and task budgets.
  /** Pins, ordered by server then tool. */
  listToolPins(server?: string): Promise<ToolPin[]>;
  /**
   * Pins a tool seen for the first time. When the tool is already pinned, the stored pin wins
   * and is returned with `created: false` (first writer wins, across replicas).
   */
  pinTool(pin: ToolPin): Promise<{ pin: ToolPin; created: boolean }>;
  /**
   * Records that the upstream now offers `definition` (digest `digest`) for a pinned tool whose
   * pinned digest differs: status `changed`, the definition kept as pending. `flagged` is true
   * for exactly the caller that changed the stored pending digest. Null when there is no pin.
   */
  flagToolChange(server: string, tool: string, digest: string, definition: ToolDefinition, now: number): Promise<{ pin: ToolPin; flagged: boolean } | null>;
  /**
   * Makes the pending definition the pinned one — only if it is still the one whose digest the
   * admin reviewed (`pendingDigest`). Null otherwise (nothing pending, or it changed again).
   */
  acceptToolChange(server: string, tool: string, pendingDigest: string, by: PersonId, now: number): Promise<ToolPin | null>;
  /**
   * Charges a task atomically (any number of replicas): with `budget`, the charge is applied
   * only if calls and bytes out stay within it and bytes in — those stored plus those in the
   * charge — are under it (`withinBudget`); without, it is applied unconditionally. Resolves to
   * whether it was applied and the usage after (or as stored, when it was not).
   */
  chargeTask(taskId: TaskId, charge: TaskUsage, budget: TaskBudget | null): Promise<{ ok: boolean; usage: TaskUsage }>;
  getTaskUsage(taskId: TaskId): Promise<TaskUsage>;
  // Secrets (sealed upstream credentials) ---------------------------------------------------
  // A version is *live* at `now` while its `notAfter` is null or later than `now`. Versions
  // are never deleted, so a version number is never reused.

  /**
   * Adds the next version of secret `draft.name` in one transaction: its number is one past
   * the newest version of the name (1 for a new name), taken so that concurrent callers on any
   * replica never get the same number and none is lost; `seal(version)` seals the value for
   * that number (the number is bound into the ciphertext); every earlier version's `notAfter`
   * becomes the earlier of its own and `draft.previousNotAfter`. The new version has no
   * `notAfter`. `seal` MUST be synchronous; an exception from it rolls everything back.
   */
  insertSecretVersion(draft: SecretVersionDraft, seal: (version: number) => SealedSecret): Promise<SecretVersion>;
  /** The versions of `name` live at `now`, newest first (empty for an unknown name). */
  getLiveSecretVersions(name: string, now: number): Promise<SecretVersion[]>;
  /**
   * Every version of every secret live at `now`, by name, newest version first. Metadata
   * only: sealed values are not read from the database.
   */
  listLiveSecretVersions(now: number): Promise<SecretVersionMeta[]>;

  // Change notification ------------------------------------------------------------------
  /**
   * Tells every replica that revocations changed (PostgreSQL: NOTIFY). Replicas subscribed with
   * `onRevocationsChanged` reload. A no-op for SQLite, which has one process. Listeners may
   * be called without a change (PostgreSQL calls them after every reconnect, because a NOTIFY
   * sent while disconnected is lost): they reload, they do not assume a delta.
   */
  notifyRevocationsChanged(): Promise<void>;
  onRevocationsChanged(listener: () => void): void;
}

/** What `Store.decideApproval` did. */
/** What `listApprovals` keeps; `argsDigest` with `agentId` finds a held task grant again. */
export interface ApprovalFilter {
  readonly status?: ApprovalStatus;
  readonly taskId?: TaskId;
  readonly agentId?: AgentId;
  readonly action?: string;
  readonly argsDigest?: string;
  readonly limit?: number;
}

/** A task's budget; a dimension left out is unlimited. */
export interface TaskBudget {
  readonly calls?: number;
  readonly bytesOut?: number;
  readonly bytesIn?: number;
}

export type ApprovalDecideOutcome =
  | { readonly kind: 'recorded'; readonly approval: Approval; readonly resolved: boolean }
  | { readonly kind: 'closed'; readonly approval: Approval }
  | { readonly kind: 'already_decided'; readonly approval: Approval }
  | { readonly kind: 'not_found' };
