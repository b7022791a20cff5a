import type {
  Agent,
  AgentId,
  AgentKey,
  AgentStatus,
  ApiKeyId,
  ApiKeyRecord,
  EventInput,
  EventRecord,
  Person,
  PersonId,
  Revocation,
  RevocationKind,
  SigningKeyRecord,
  Task,
  TaskId,
  TaskStatus,
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
 *   expired at `now === t` (revocations, one-time values, signing keys alike).
 * - Lists come oldest first (persons, agents, agent keys, signing keys), except `listTasks`,
 *   newest first so that `limit` keeps the recent ones; events in `seq` order.
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

  // Identity events ------------------------------------------------------------------------
  /** Appends one event; resolves to its sequence number (0, 1, 2, … without gaps). */
  appendEvent(event: EventInput, time: number): Promise<EventRecord>;
  listEvents(filter?: { afterSeq?: number; type?: string; subject?: string; limit?: number }): Promise<EventRecord[]>;

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
