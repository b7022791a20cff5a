import { ENTRY_VERSION, type AuditRow, type EventInput, type EventRecord, type PlacedEvent } from '../domain/index.js';
import { eventCode } from '../events/event-types.js';
import { canonicalJson } from '../util/canonical-digest.js';
import { leafHash } from './merkle/hash.js';

export { ENTRY_VERSION, parseEntry } from '../domain/index.js';

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
