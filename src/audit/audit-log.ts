import { EventInputSchema, type EventInput, type EventRecord } from '../domain/index.js';
import type { EventDraft, EventLog } from '../events/event-log.js';
import { EVENT_TYPES } from '../events/event-types.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { sealEntry, toRecord } from './entry.js';

interface Pending {
  readonly input: EventInput;
  readonly time: number;
  readonly resolve: (record: EventRecord) => void;
  readonly reject: (err: unknown) => void;
}

export interface AuditLogOptions {
  /** Most entries one commit takes; the rest wait for the next (default 1,000). */
  readonly maxBatch?: number;
}

/**
 * The audit log's writer, with group commit.
 *
 * `record` resolves only once its entry is committed — an entry of a call is durable before the
 * call is forwarded (DESIGN.md) — but entries are not committed one by one: everything recorded
 * while the previous commit runs (or in the same turn of the event loop) goes into the next
 * transaction together. Concurrent calls share one commit (and, with `durability: fsync`, one
 * fsync) instead of queueing behind each other's; a lone call still commits at once.
 *
 * A failed commit rejects every entry in it, so each call it would have recorded fails closed.
 * One process appends through one AuditLog; replicas on PostgreSQL serialize in the store.
 */
export class AuditLog implements EventLog {
  private pending: Pending[] = [];
  private scheduled = false;
  private committing: Promise<void> | null = null;
  private readonly maxBatch: number;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    opts: AuditLogOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 1000;
  }

  record(event: EventDraft): Promise<EventRecord> {
    // Our own code naming an unregistered type is a bug, not a domain error.
    if (!Object.hasOwn(EVENT_TYPES, event.type)) return Promise.reject(new TypeError(`unregistered event type ${event.type}`));
    let input: EventInput;
    try {
      input = EventInputSchema.parse(event);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<EventRecord>((resolve, reject) => {
      this.pending.push({ input, time: this.clock.now(), resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every entry recorded so far is committed (or has failed). */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.committing || this.scheduled) {
      await (this.committing ?? new Promise<void>((r) => setImmediate(r)));
    }
  }

  /**
   * Commits at the end of this turn of the event loop, so that entries recorded by callbacks of
   * the same I/O poll join one transaction; while a commit runs, the next waits for it.
   */
  private schedule(): void {
    if (this.scheduled || this.committing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.committing = this.commit().finally(() => {
        this.committing = null;
        if (this.pending.length > 0) this.schedule();
      });
    });
  }

  private async commit(): Promise<void> {
    const batch = this.pending.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    try {
      const rows = await this.store.appendAudit(batch, (p, seq) => sealEntry({ ...p.input, seq, time: p.time }));
      for (const [i, p] of batch.entries()) p.resolve(toRecord({ ...p.input, seq: rows[i]!.seq, time: p.time }));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

/**
 * Moves the rows of the superseded `events` table (before the audit log existed) into the log
 * once, keeping their sequence numbers and times. Safe on every start and from several replicas.
 */
export function importLegacyEvents(store: Store): Promise<number> {
  return store.importLegacyEvents(sealEntry);
}
