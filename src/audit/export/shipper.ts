import { setTimeout as sleep } from 'node:timers/promises';
import { AuditExportSchema, type AuditExport, type AuditExportInput } from '../../config/audit-export-config.js';
import type { AuditRow, EventRecord } from '../../domain/index.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import { parseEntry } from '../entry.js';
import { ExportFailure, isTransient, postBatch, rejectedLogRecords, resolveHeaders, type ExportErrorCode, type ResolveSecret } from './delivery.js';
import { toOcsf } from './ocsf.js';
import { otlpRequest, toOtlpLogRecord } from './otlp.js';

export type { ExportErrorCode, ResolveSecret } from './delivery.js';

/** The part of a pino logger the shipper uses. */
export interface ShipperLogger {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

export interface AuditShipperOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** One entry of `audit.export`; validated (and defaulted) again here. */
  readonly config: AuditExportInput;
  /** Resolves `{ secret: name }` header values; without it such a header fails the batch. */
  readonly resolveHeader?: ResolveSecret;
  readonly logger?: ShipperLogger;
  /** Where `{ env: NAME }` header values are read (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Waits between failed attempts: `baseMs` doubling to `maxMs`, with jitter (default 1 s to 5 min). */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** In [0, 1): the jitter source (default Math.random). */
  readonly random?: () => number;
}

/** What the admin API shows about one exporter. Times are ms since the epoch. */
export interface ShipperStatus {
  readonly name: string;
  readonly format: AuditExport['format'];
  /** Scheme, host and path of the endpoint: a query may carry a token, so it is left out. */
  readonly endpoint: string;
  readonly running: boolean;
  /** The next seq this exporter ships, as last read (null before the first read). */
  readonly cursor: number | null;
  /** Entries in the log not shipped yet, as of the last check (null before it). */
  readonly lag: number | null;
  readonly lastSuccessAt: number | null;
  readonly lastAttemptAt: number | null;
  /** The latest failure, kept after later successes; `failures` says whether it is current. */
  readonly lastError: { readonly code: ExportErrorCode; readonly httpStatus?: number; readonly at: number } | null;
  /** Failed attempts since the last success. */
  readonly failures: number;
  /** Entries delivered by this process. */
  readonly shipped: number;
  /** Log records an OTLP receiver reported rejecting (partial success: not retried, per OTLP). */
  readonly rejected: number;
  /** Entries archived (retention) before this exporter shipped them. */
  readonly skipped: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Follows the audit log and ships it, in `seq` order, to one OTLP/HTTP or OCSF endpoint.
 *
 * Delivery is at least once: the cursor (`store.advanceAuditCursor`, named after the exporter
 * and shared by every replica) moves only after the receiver accepted a batch, with a
 * compare-and-set, so a batch is never skipped and, after a crash or a race between replicas,
 * may be sent twice (records are deterministic, so receivers can dedupe on `warden.seq` /
 * `metadata.uid`). A failed batch is retried, whole and in order, with exponential backoff and
 * jitter (honouring Retry-After); answers that will not change by themselves (400, 401, …) are
 * retried at the longest wait, so a fixed receiver resumes without a restart and nothing is dropped.
 * A 413 halves the batch. The loop never throws; header values are never logged.
 */
export class AuditShipper {
  private readonly config: AuditExport;
  private readonly endpoint: string;
  private readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  private readonly random: () => number;
  private readonly wake = new AbortController();
  private loop: Promise<void> | null = null;
  private stopped = false;
  /** The batch size in use: `batchSize`, halved by each 413 and grown back on success. */
  private limit: number;
  private readonly state: Mutable<Omit<ShipperStatus, 'name' | 'format' | 'endpoint' | 'running'>> = {
    cursor: null,
    lag: null,
    lastSuccessAt: null,
    lastAttemptAt: null,
    lastError: null,
    failures: 0,
    shipped: 0,
    rejected: 0,
    skipped: 0,
  };

  constructor(private readonly opts: AuditShipperOptions) {
    this.config = AuditExportSchema.parse(opts.config);
    const url = new URL(this.config.url);
    this.endpoint = `${url.origin}${url.pathname}`;
    this.backoff = opts.backoff ?? { baseMs: 1000, maxMs: 300_000 };
    if (!(this.backoff.baseMs > 0 && this.backoff.maxMs >= this.backoff.baseMs)) throw new TypeError('backoff needs 0 < baseMs <= maxMs');
    this.random = opts.random ?? Math.random;
    this.limit = this.config.batchSize;
  }

  /** Starts following the log; a no-op when running. A stopped shipper does not start again. */
  start(): void {
    if (this.loop || this.stopped) return;
    this.loop = this.run();
  }

  /** Stops; resolves once a batch in flight has finished (its timeout bounds the wait). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    await this.loop;
  }

  status(): ShipperStatus {
    return { name: this.config.name, format: this.config.format, endpoint: this.endpoint, running: this.loop !== null && !this.stopped, ...this.state };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let waitMs: number;
      try {
        waitMs = await this.cycle();
      } catch (err) {
        waitMs = this.failed(err instanceof ExportFailure ? err : new ExportFailure('INTERNAL'), null);
      }
      if (this.stopped) break;
      if (waitMs > 0) await sleep(waitMs, undefined, { signal: this.wake.signal }).catch(() => undefined);
    }
  }

  /** Ships at most one batch; resolves to how long to wait before the next. */
  private async cycle(): Promise<number> {
    const { store } = this.opts;
    const idleMs = this.config.intervalSec * 1000;
    let cursor: number;
    let rows: AuditRow[];
    let size: number;
    try {
      cursor = await store.getAuditCursor(this.config.name);
      rows = await store.searchAudit({ afterSeq: cursor - 1, limit: this.limit });
      size = (await store.auditState()).size;
    } catch {
      throw new ExportFailure('STORE_UNAVAILABLE');
    }
    this.state.cursor = cursor;
    this.state.lag = Math.max(0, size - cursor);
    const first = rows[0];
    // ±20 %: replicas polling the same cursor drift apart instead of sending each batch together.
    if (first === undefined) return idleMs * (0.8 + 0.4 * this.random());
    if (first.seq > cursor) {
      // Archived (retention) before this exporter got to them: nothing left to send.
      if (await this.advance(cursor, first.seq)) this.noteArchived(cursor, first.seq);
      return 0;
    }
    const { body, count } = this.body(rows);
    // body() holds at least the first row, or has thrown BAD_ENTRY.
    const last = rows[count - 1]!;
    const headers = await resolveHeaders(this.config.headers, { ...(this.opts.resolveHeader ? { resolveSecret: this.opts.resolveHeader } : {}), env: this.opts.env ?? process.env });
    this.state.lastAttemptAt = this.opts.clock.now();
    let answer: string;
    try {
      answer = await postBatch(this.config.url, body, headers, this.config.timeoutSec * 1000, () => this.opts.clock.now());
    } catch (err) {
      const failure = err instanceof ExportFailure ? err : new ExportFailure('INTERNAL');
      if (failure.details.httpStatus === 413 && this.limit > 1) this.limit = Math.ceil(this.limit / 2);
      return this.failed(failure, { from: first.seq, count });
    }
    if (this.config.format === 'otlp') this.noteRejected(rejectedLogRecords(answer), first.seq, count);

    const next = last.seq + 1;
    // A store failure here means delivered but not recorded: the batch goes again (at least once).
    const moved = await this.advance(cursor, next);
    const full = count >= this.limit;
    this.state.shipped += count;
    this.state.lastSuccessAt = this.opts.clock.now();
    this.state.failures = 0;
    this.limit = Math.min(this.config.batchSize, this.limit * 2);
    if (moved) {
      this.state.cursor = next;
      this.state.lag = Math.max(0, size - next);
    }
    // Not moved: another replica shipped this batch first; read its cursor next time.
    return full || !moved ? 0 : idleMs * (0.8 + 0.4 * this.random());
  }

  /**
   * The request body for the longest readable prefix of `rows` (an OTLP
   * ExportLogsServiceRequest, or a JSON array of OCSF events), and how many rows it holds. An
   * entry that does not parse is never skipped: the batch stops before it, and when it comes
   * first the exporter stops there with BAD_ENTRY.
   */
  private body(rows: readonly AuditRow[]): { body: string; count: number } {
    const items: { event: EventRecord; leaf: Buffer }[] = [];
    for (const row of rows) {
      try {
        items.push({ event: parseEntry(row.entry), leaf: row.leaf });
      } catch {
        this.warn({ exporter: this.config.name, seq: row.seq }, 'audit export stopped at an entry that does not parse');
        if (items.length === 0) throw new ExportFailure('BAD_ENTRY');
        break;
      }
    }
    const body =
      this.config.format === 'otlp'
        ? JSON.stringify(otlpRequest(items.map(({ event, leaf }) => toOtlpLogRecord(event, { leaf }))))
        : JSON.stringify(items.map(({ event, leaf }) => toOcsf(event, { leaf })));
    return { body, count: items.length };
  }

  /** Moves the cursor from `from` to `to` if no one else did; rejects with STORE_UNAVAILABLE. */
  private async advance(from: number, to: number): Promise<boolean> {
    try {
      return await this.opts.store.advanceAuditCursor(this.config.name, from, to, this.opts.clock.now());
    } catch {
      throw new ExportFailure('STORE_UNAVAILABLE');
    }
  }

  /** Records a failure and resolves to the wait before the next attempt. */
  private failed(failure: ExportFailure, batch: { from: number; count: number } | null): number {
    const s = this.state;
    s.failures++;
    const httpStatus = failure.details.httpStatus;
    s.lastError = { code: failure.code, ...(httpStatus !== undefined ? { httpStatus } : {}), at: this.opts.clock.now() };
    this.warn(
      { exporter: this.config.name, endpoint: this.endpoint, code: failure.code, httpStatus, header: failure.details.header, failures: s.failures, ...(batch ?? {}) },
      'audit export batch not delivered',
    );
    const { baseMs, maxMs } = this.backoff;
    // Retrying soon only helps when the cause can pass by itself; 413 has just halved the batch.
    const soon = isTransient(failure) || httpStatus === 413;
    const exp = soon ? Math.min(maxMs, baseMs * 2 ** Math.min(s.failures - 1, 30)) : maxMs;
    // Equal jitter: replicas and exporters that failed together spread out, none retries at once.
    const jittered = exp / 2 + (this.random() * exp) / 2;
    const after = failure.details.retryAfterMs;
    return after !== undefined ? Math.min(maxMs, Math.max(after, jittered)) : jittered;
  }

  /** Logs a warning; a logger that throws must not stop the loop. */
  private warn(obj: object, msg: string): void {
    try {
      this.opts.logger?.warn(obj, msg);
    } catch {
      // Nothing to do: the status still says what happened.
    }
  }

  private noteArchived(cursor: number, firstSeq: number): void {
    this.state.skipped += firstSeq - cursor;
    this.warn({ exporter: this.config.name, from: cursor, to: firstSeq }, 'audit entries were archived before this exporter shipped them');
  }

  private noteRejected(count: number, from: number, size: number): void {
    if (count === 0) return;
    this.state.rejected += count;
    this.warn({ exporter: this.config.name, endpoint: this.endpoint, rejected: count, from, count: size }, 'OTLP receiver rejected part of a batch');
  }
}
