import {
  AgentKeySchema,
  AgentSchema,
  ApiKeyRecordSchema,
  EventRecordSchema,
  PersonSchema,
  RevocationSchema,
  SigningKeyRecordSchema,
  TaskSchema,
  TaskUsageSchema,
  ToolPinSchema,
  type Agent,
  type AgentKey,
  type ApiKeyRecord,
  type EventRecord,
  type Person,
  type Revocation,
  type SigningKeyRecord,
  type Task,
  type TaskUsage,
  type ToolPin,
} from '../domain/index.js';
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

export const toEvent = (r: Row): EventRecord =>
  parseRow(
    EventRecordSchema,
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
