import { EventRecordSchema, type AuditRow, type EventInput, type EventRecord, type PlacedEvent } from '../domain/index.js';
import { eventCode } from '../events/event-types.js';
import { canonicalJson } from '../util/canonical-digest.js';
import { leafHash } from './merkle/hash.js';

/** The version of the entry format; bumped only with a documented migration of verifiers. */
export const ENTRY_VERSION = 1;

/**
 * The canonical text of an entry: RFC 8785 JSON of `{v, seq, time, type, code, outcome, error?,
 * actor, subject, chain?, data}`. These exact bytes are the Merkle leaf (RFC 9162 §2.1.1), so
 * anyone holding the text can recompute the tree without Warden.
 */
export function entryText(event: EventRecord): string {
  const { seq, time, type, code, outcome, error, actor, subject, chain, data } = event;
  return canonicalJson({
    v: ENTRY_VERSION,
    seq,
    time,
    type,
    code,
    outcome,
    ...(error !== undefined ? { error } : {}),
    actor,
    subject,
    ...(chain !== undefined ? { chain } : {}),
    data,
  });
}

/**
 * The search columns of an entry. The agent is the chain's agent, else an agent actor; the person
 * the chain's person, else a person actor — so "what did this person cause" finds both the
 * calls made on their behalf and what they did themselves.
 */
export function searchColumns(event: EventInput): Pick<AuditRow, 'agent' | 'task' | 'person' | 'tool'> {
  const { chain, actor } = event;
  return {
    agent: chain?.agent ?? (actor.kind === 'agent' ? actor.id : null),
    task: chain?.task ?? null,
    person: chain?.person?.sub ?? (actor.kind === 'person' ? actor.id : null),
    tool: chain?.tool ?? null,
  };
}

/** The Merkle leaf hash of an entry as recorded (with the code it was recorded with). */
export function leafOf(record: EventRecord): Buffer {
  return leafHash(Buffer.from(entryText(record), 'utf8'));
}

/** The entry an event becomes at its place: with its stable code. */
export function toRecord(event: PlacedEvent): EventRecord {
  return { ...event, code: eventCode(event.type, event.outcome) };
}

/** The stored row of `event`: its canonical text, the leaf hash of that text, its columns. */
export function sealEntry(event: PlacedEvent): AuditRow {
  const entry = entryText(toRecord(event));
  return {
    seq: event.seq,
    time: event.time,
    type: event.type,
    outcome: event.outcome,
    ...searchColumns(event),
    entry,
    leaf: leafHash(Buffer.from(entry, 'utf8')),
  };
}

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
