import type { Actor, Chain, EventRecord } from '../domain/index.js';
import type { EventType } from './event-types.js';

export interface EventDraft {
  type: EventType;
  outcome: 'success' | 'denied' | 'failure';
  /** The stable error code of a denial or failure. */
  error?: string;
  actor: Actor;
  subject: string | null;
  /** The attribution chain, as far as the recorder knows it. */
  chain?: Chain;
  data: Record<string, unknown>;
}

/**
 * The append-only record of everything Warden does. The implementation is the Merkle-tree
 * audit log (audit/audit-log.ts); callers only ever `record`.
 */
export interface EventLog {
  /** Resolves once the event is durable; a failure must fail the operation it records. */
  record(event: EventDraft): Promise<EventRecord>;
}

export const SYSTEM: Actor = { kind: 'system', id: 'warden' };
