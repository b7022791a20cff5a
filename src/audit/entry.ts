import type { AuditRow, EventInput, EventRecord } from '../domain/index.js';
import { canonicalJson } from '../util/canonical-digest.js';
import { leafHash } from './merkle/hash.js';

/** The version of the entry format; bumped only with a documented migration of verifiers. */
export const ENTRY_VERSION = 1;

/**
 * The canonical text of an entry: RFC 8785 JSON of `{v, seq, time, type, outcome, code?, actor,
 * subject, chain?, data}`. These exact bytes are the Merkle leaf (RFC 9162 §2.1.1), so anyone
 * holding the text can recompute the tree without Warden.
 */
export function entryText(event: EventRecord): string {
  const { seq, time, type, outcome, code, actor, subject, chain, data } = event;
  return canonicalJson({
    v: ENTRY_VERSION,
    seq,
    time,
    type,
    outcome,
    ...(code !== undefined ? { code } : {}),
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

/** The stored row of `event`: its canonical text, the leaf hash of that text, its columns. */
export function sealEntry(event: EventRecord): AuditRow {
  const entry = entryText(event);
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
