import type { Progress } from './progress.js';

/** How long each kind of measurement runs (after its warm-up). */
export interface Durations {
  /** A synchronous in-process loop: raw crypto. */
  readonly microMs: number;
  /** An async in-process loop over pre-generated inputs: a verifier or endpoint called directly. */
  readonly inProcessMs: number;
  /** An HTTP load run against a real server. */
  readonly httpMs: number;
  /** Operations run and thrown away before each timed run, so the JIT and caches are warm. */
  readonly warmupOps: number;
  /** The soak: minutes of concurrent calls. */
  readonly soakMs: number;
  /** Size of the audit log the proof and verification figures are taken at. */
  readonly auditEntries: number;
}

export interface BenchContext {
  readonly durations: Durations;
  /** HTTP requests kept in flight at once by the load generator. */
  readonly concurrency: number;
  readonly progress: Progress;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * One measured figure. A `measured` row names the `baseline` rows (same section, same run) it
 * is compared with; the report prints `rate ÷ baseline rate` for each. A figure without a
 * baseline is an assertion, not a measurement, so the report refuses a measured row with none.
 */
export interface Row {
  /** Stable within its section, for scripts reading `--json`: `raw.ed25519.verify`. */
  readonly id: string;
  readonly label: string;
  readonly kind: 'baseline' | 'measured';
  readonly unit: string;
  /** Operations per second. */
  readonly rate: number;
  /** Operations timed and the seconds they took; both 0 for a derived row. */
  readonly ops: number;
  readonly seconds: number;
  /** Per-operation latency in milliseconds (runs that time each operation). */
  readonly latencyMs?: LatencySummary;
  /** |first half − second half| ÷ rate, for a baseline timed before and after the rows it serves. */
  readonly drift?: number;
  /** Process CPU time ÷ wall time while timed: 1.0 = one core busy. */
  readonly cpuCores?: number;
  /** Baseline row ids this rate is divided by. */
  readonly vs?: readonly string[];
  /** Rows this one is computed from instead of timed. */
  readonly derivedFrom?: readonly string[];
  readonly note?: string;
}

/** A group of rows about one subject; later issues add sections (gateway, policy, audit). */
export interface Section {
  /** For `--only`: lowercase, no spaces. */
  readonly name: string;
  readonly title: string;
  /** What a reader needs to read the rows right, printed under the table. */
  readonly notes: readonly string[];
  run(ctx: BenchContext): Promise<Row[]>;
}
