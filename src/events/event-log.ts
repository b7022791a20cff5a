import { EventInputSchema, type Actor, type EventRecord } from '../domain/index.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { EVENT_TYPES, type EventType } from './event-types.js';

export interface EventDraft {
  type: EventType;
  outcome: 'success' | 'denied' | 'failure';
  actor: Actor;
  subject: string | null;
  data: Record<string, unknown>;
}

/**
 * The append-only record of identity events. The audit issue replaces the store behind it with
 * a Merkle-tree log; callers only ever `record`.
 */
export interface EventLog {
  /** Resolves once the event is durable; a failure must fail the operation it records. */
  record(event: EventDraft): Promise<EventRecord>;
}

export class StoreEventLog implements EventLog {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  record(event: EventDraft): Promise<EventRecord> {
    // Our own code naming an unregistered type is a bug, not a domain error.
    if (!Object.hasOwn(EVENT_TYPES, event.type)) return Promise.reject(new TypeError(`unregistered event type ${event.type}`));
    return this.store.appendEvent(EventInputSchema.parse(event), this.clock.now());
  }
}

export const SYSTEM: Actor = { kind: 'system', id: 'warden' };
