import {
  AgentKeySchema,
  AgentSchema,
  ApiKeyRecordSchema,
  parseEntry,
  PlacedEventSchema,
  PersonSchema,
  RevocationSchema,
  SealedSecretSchema,
  SecretVersionMetaSchema,
  SecretVersionSchema,
  SigningKeyRecordSchema,
  TaskSchema,
  TaskUsageSchema,
  ToolPinSchema,
  type Agent,
  type AgentKey,
  type AuditNode,
  type AuditRow,
  type StoredCheckpoint,
  type ApiKeyRecord,
  type EventRecord,
  type PlacedEvent,
  type Person,
  type Revocation,
  type SealedSecret,
  type SecretVersion,
  type SecretVersionMeta,
  type SigningKeyRecord,
  type Task,
  type TaskUsage,
  type ToolPin,
} from '../domain/index.js';
import { WardenError } from '../errors/warden-error.js';
import { parseJsonColumn, parseRow } from './rows.js';

/**
 * Rows to domain records, for both adapters: the tables have the same columns in SQLite and
 * PostgreSQL. JSON columns arrive as text from SQLite and already parsed (JSONB) from
 * PostgreSQL; `parseJsonColumn` takes either. Each record is validated by its domain schema,
 * so a row that does not fit fails closed. The SQL itself stays written per adapter.
 */
export type Row = Record<string, unknown>;

export const toPerson = (r: Row): Person =>
  parseRow(
    PersonSchema,
    { id: r.id, name: r.name, email: r.email, roles: parseJsonColumn(r.roles, 'persons'), status: r.status, createdAt: r.created_at },
    'persons',
  );

export const toApiKey = (r: Row): ApiKeyRecord =>
  parseRow(
    ApiKeyRecordSchema,
    { id: r.id, personId: r.person_id, label: r.label, secretHash: r.secret_hash, createdAt: r.created_at, revokedAt: r.revoked_at },
    'api_keys',
  );

export const toAgent = (r: Row): Agent =>
  parseRow(
    AgentSchema,
    {
      id: r.id,
      name: r.name,
      owner: r.owner,
      purpose: r.purpose,
      riskCategory: r.risk_category,
      status: r.status,
      capabilities: parseJsonColumn(r.capabilities, 'agents'),
      maxTaskLifetimeSec: r.max_task_lifetime_sec,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    },
    'agents',
  );

export const toAgentKey = (r: Row): AgentKey =>
  parseRow(
    AgentKeySchema,
    {
      agentId: r.agent_id,
      jkt: r.jkt,
      jwk: parseJsonColumn(r.jwk, 'agent_keys'),
      alg: r.alg,
      status: r.status,
      createdAt: r.created_at,
      retiredAt: r.retired_at,
    },
    'agent_keys',
  );

export const toTask = (r: Row): Task =>
  parseRow(
    TaskSchema,
    {
      id: r.id,
      agentId: r.agent_id,
      purpose: r.purpose,
      scope: parseJsonColumn(r.scope, 'tasks'),
      onBehalfOf: r.on_behalf_of === null ? null : parseJsonColumn(r.on_behalf_of, 'tasks'),
      ticket: r.ticket,
      status: r.status,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      endedAt: r.ended_at,
      endReason: r.end_reason,
    },
    'tasks',
  );

export const toRevocation = (r: Row): Revocation =>
  parseRow(
    RevocationSchema,
    { kind: r.kind, value: r.value, reason: r.reason, createdAt: r.created_at, expiresAt: r.expires_at, liftedAt: r.lifted_at },
    'revocations',
  );

export const toSigningKey = (r: Row): SigningKeyRecord =>
  parseRow(
    SigningKeyRecordSchema,
    {
      kid: r.kid,
      publicJwk: parseJsonColumn(r.public_jwk, 'signing_keys'),
      createdAt: r.created_at,
      retiredAt: r.retired_at,
      verifyUntil: r.verify_until,
    },
    'signing_keys',
  );

/** Rows of the superseded `events` table, read once to import them into the audit log. */
export const toEvent = (r: Row): PlacedEvent =>
  parseRow(
    PlacedEventSchema,
    {
      seq: r.seq,
      time: r.time,
      type: r.type,
      outcome: r.outcome,
      actor: parseJsonColumn(r.actor, 'events'),
      subject: r.subject,
      data: parseJsonColumn(r.data, 'events'),
    },
    'events',
  );

export const toToolPin = (r: Row): ToolPin =>
  parseRow(
    ToolPinSchema,
    {
      server: r.server,
      tool: r.tool,
      digest: r.digest,
      definition: parseJsonColumn(r.definition, 'tool_pins'),
      status: r.status,
      pendingDigest: r.pending_digest,
      pendingDefinition: r.pending_definition === null ? null : parseJsonColumn(r.pending_definition, 'tool_pins'),
      firstSeenAt: r.first_seen_at,
      changedAt: r.changed_at,
      acceptedAt: r.accepted_at,
      acceptedBy: r.accepted_by,
    },
    'tool_pins',
  );

export const toTaskUsage = (r: Row | undefined): TaskUsage =>
  r === undefined ? { calls: 0, bytesOut: 0, bytesIn: 0 } : parseRow(TaskUsageSchema, { calls: r.calls, bytesOut: r.bytes_out, bytesIn: r.bytes_in }, 'task_usage');
const secretMeta = (r: Row) => ({
  name: r.name,
  version: r.version,
  keyId: r.key_id,
  createdAt: r.created_at,
  notAfter: r.not_after,
  createdBy: parseJsonColumn(r.created_by, 'secrets'),
});

/** A row of `secrets` without its sealed value (the listing query does not select it). */
export const toSecretVersionMeta = (r: Row): SecretVersionMeta => parseRow(SecretVersionMetaSchema, secretMeta(r), 'secrets');

export const toSecretVersion = (r: Row): SecretVersion =>
  parseRow(SecretVersionSchema, { ...secretMeta(r), ciphertext: r.ciphertext, nonce: r.nonce }, 'secrets');

/**
 * Calls the caller's sealing function inside an adapter's transaction. Its output is checked
 * before it is written, and a failure of ours inside it surfaces as INTERNAL rather than as
 * the store being unavailable.
 */
export function sealWith(seal: (version: number) => SealedSecret, version: number): { ciphertext: Buffer; nonce: Buffer; keyId: string } {
  let sealed: unknown;
  try {
    sealed = seal(version);
  } catch (cause) {
    if (cause instanceof WardenError) throw cause;
    throw new WardenError('INTERNAL', { table: 'secrets', reason: 'sealing failed' }, { cause });
  }
  const result = SealedSecretSchema.safeParse(sealed);
  if (!result.success) throw new WardenError('INTERNAL', { table: 'secrets', reason: 'sealed value is malformed' }, { cause: result.error });
  // Both drivers bind a Buffer as a blob; a plain Uint8Array is not accepted by every one.
  const { ciphertext, nonce, keyId } = result.data;
  return { ciphertext: Buffer.from(ciphertext), nonce: Buffer.from(nonce), keyId };
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isText = (v: unknown): v is string => typeof v === 'string';
const isNullableText = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isHash = (v: unknown): v is Buffer => Buffer.isBuffer(v) && v.length === 32;

/** Numbers may arrive as strings (PostgreSQL BIGINT); anything else fails the row. */
function int(v: unknown): unknown {
  return typeof v === 'string' && /^-?\d{1,16}$/.test(v) ? Number(v) : typeof v === 'bigint' ? Number(v) : v;
}

function badRow(table: string): WardenError {
  return new WardenError('INTERNAL', { reason: 'stored row does not parse', table });
}

export function toAuditRow(r: Row): AuditRow {
  const row = {
    seq: int(r.seq),
    time: int(r.time),
    type: r.type,
    outcome: r.outcome,
    agent: r.agent,
    task: r.task,
    person: r.person,
    tool: r.tool,
    entry: r.entry,
    leaf: r.leaf,
  };
  if (
    !isInt(row.seq) || !isInt(row.time) || !isText(row.type) || !isText(row.outcome) || !isNullableText(row.agent) ||
    !isNullableText(row.task) || !isNullableText(row.person) || !isNullableText(row.tool) || !isText(row.entry) || !isHash(row.leaf)
  ) {
    throw badRow('audit_log');
  }
  return row as AuditRow;
}

/** The event an audit row records, read from its canonical entry (not from the search columns). */
export function toEventFromAudit(r: AuditRow): EventRecord {
  try {
    return parseEntry(r.entry);
  } catch (cause) {
    throw new WardenError('INTERNAL', { reason: 'stored row does not parse', table: 'audit_log' }, { cause });
  }
}

export function toLeaf(r: Row): { seq: number; leaf: Buffer } {
  const leaf = { seq: int(r.seq), leaf: r.leaf };
  if (!isInt(leaf.seq) || !isHash(leaf.leaf)) throw badRow('audit_log');
  return leaf as { seq: number; leaf: Buffer };
}

export function toAuditNode(r: Row): AuditNode {
  const node = { level: int(r.level), index: int(r.idx), hash: r.hash };
  if (!isInt(node.level) || !isInt(node.index) || !isHash(node.hash)) throw badRow('audit_nodes');
  return node as AuditNode;
}

export function toCheckpoint(r: Row): StoredCheckpoint {
  const cp = { size: int(r.size), time: int(r.time), root: r.root, note: r.note };
  if (!isInt(cp.size) || !isInt(cp.time) || !isHash(cp.root) || !isText(cp.note)) throw badRow('audit_checkpoints');
  return cp as StoredCheckpoint;
}
