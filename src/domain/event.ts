import { z } from 'zod';

/** Who caused an event: a person, an agent, or Warden itself. */
export const ActorSchema = z.object({
  kind: z.enum(['person', 'agent', 'system']),
  id: z.string().max(255),
});
export type Actor = z.infer<typeof ActorSchema>;

export const EventOutcomeSchema = z.enum(['success', 'denied', 'failure']);

/** The person on whose behalf an agent acts, as named by the issuer that vouched for them. */
export const ChainPersonSchema = z.object({ sub: z.string().max(255), iss: z.string().max(2048) }).strict();

/** What decided a call: the effect, the policies behind it and the policy set's revision. */
export const ChainDecisionSchema = z
  .object({
    effect: z.enum(['allow', 'deny', 'held', 'error']),
    policies: z.array(z.string().max(255)).max(100),
    revision: z.string().max(255).optional(),
    errors: z.array(z.string().max(2000)).max(20).optional(),
  })
  .strict();

/**
 * The attribution chain of an entry (DESIGN.md "Audit log"): person on whose behalf →
 * approvals → agent (and the key it proved) → task → tool or endpoint → decision → digests of
 * what went out and what came back. Each link is present when the event has it.
 */
export const ChainSchema = z
  .object({
    person: ChainPersonSchema.optional(),
    approvals: z.array(z.string().max(255)).max(20).optional(),
    agent: z.string().max(255).optional(),
    agentKey: z.string().max(255).optional(),
    task: z.string().max(255).optional(),
    tool: z.string().max(300).optional(),
    decision: ChainDecisionSchema.optional(),
    argsDigest: z.string().max(255).optional(),
    resultDigest: z.string().max(255).optional(),
  })
  .strict();
export type Chain = z.infer<typeof ChainSchema>;

/** An event as its recorder hands it over, before it has a place in the log. */
export const EventInputSchema = z.object({
  type: z.string().regex(/^[a-z][a-z_]*(\.[a-z_]+)+$/),
  outcome: EventOutcomeSchema,
  /** The stable error code (errors/registry.ts) of a denial or failure. */
  error: z.string().regex(/^[A-Z][A-Z0-9_]*$/).max(100).optional(),
  actor: ActorSchema,
  subject: z.string().max(255).nullable(),
  chain: ChainSchema.optional(),
  data: z.record(z.string(), z.unknown()),
});
export type EventInput = z.infer<typeof EventInputSchema>;

/** An event given its place in the log, before it is sealed into an entry. */
export const PlacedEventSchema = EventInputSchema.extend({
  seq: z.number().int().nonnegative(),
  time: z.number().int(),
});
export type PlacedEvent = z.infer<typeof PlacedEventSchema>;

/**
 * An entry of the audit log: the input with its place (`seq`, from 0 without gaps), its time,
 * and its stable event code (`W` + the type's registered number + I/W/E for the outcome).
 */
export const EventRecordSchema = EventInputSchema.extend({
  seq: z.number().int().nonnegative(),
  time: z.number().int(),
  code: z.string().regex(/^W\d{4}[IWE]$/),
});
export type EventRecord = z.infer<typeof EventRecordSchema>;

/**
 * One stored row of the audit log. `entry` is the RFC 8785 canonical JSON of the entry (format
 * version 1, `{v:1, seq, time, type, code, outcome, error?, actor, subject, chain?, data}`) — exactly
 * the bytes hashed into the Merkle leaf; `leaf` is that hash as recorded at append time. The
 * other columns repeat fields of the entry so that searches can use indexes; verification
 * checks that they agree with it.
 */
export interface AuditRow {
  readonly seq: number;
  readonly time: number;
  readonly type: string;
  readonly outcome: string;
  readonly agent: string | null;
  readonly task: string | null;
  readonly person: string | null;
  readonly tool: string | null;
  readonly entry: string;
  readonly leaf: Buffer;
}

/** Which entries a search wants; all conditions must hold. Times are inclusive bounds in ms. */
export interface AuditFilter {
  afterSeq?: number;
  beforeSeq?: number;
  /** A type, or every type under a prefix when it ends in `.*` (`tool.*`). */
  type?: string;
  outcome?: string;
  agent?: string;
  task?: string;
  person?: string;
  tool?: string;
  subject?: string;
  since?: number;
  until?: number;
  limit?: number;
}

/** A stored hash of a complete aligned subtree of the audit Merkle tree (2^level leaves). */
export interface AuditNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Buffer;
}

/** A signed checkpoint (C2SP tlog-checkpoint) as stored: the note is what was signed. */
export interface StoredCheckpoint {
  readonly size: number;
  readonly root: Buffer;
  readonly time: number;
  readonly note: string;
}

/** The version of the audit entry format; bumped only with a documented migration of verifiers. */
export const ENTRY_VERSION = 1;

/**
 * The event an entry's canonical text holds. Throws a `TypeError` naming the problem (never the
 * text) when it is not JSON, not format version `ENTRY_VERSION`, or not a valid event: a reader
 * of a newer format must not take it for this one.
 */
export function parseEntry(text: string): EventRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TypeError('audit entry is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('audit entry is not an object');
  const { v, ...event } = value as Record<string, unknown>;
  if (v !== ENTRY_VERSION) throw new TypeError(`audit entry has format version ${typeof v === 'number' ? v : typeof v}, not ${ENTRY_VERSION}`);
  const parsed = EventRecordSchema.safeParse(event);
  if (!parsed.success) throw new TypeError('audit entry is not a valid event');
  return parsed.data;
}
