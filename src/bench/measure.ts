import type { BenchContext, LatencySummary, Row } from './section.js';
import { Samples } from './stats.js';

export interface Throughput {
  readonly ops: number;
  readonly seconds: number;
  /** ops ÷ seconds. */
  readonly rate: number;
}

export interface RowSpec {
  readonly id: string;
  readonly label: string;
  readonly kind: Row['kind'];
  readonly unit?: string;
  readonly vs?: readonly string[];
  readonly note?: string;
}

function throughput(ops: number, ms: number): Throughput {
  if (ops === 0 || ms <= 0) throw new TypeError('a throughput needs operations and time');
  return { ops, seconds: ms / 1000, rate: ops / (ms / 1000) };
}

function formatRate(rate: number): string {
  return `${Math.round(rate).toLocaleString('en-US')}/s`;
}

/** Operations between two clock reads: reading the clock must not be part of what is timed. */
const SYNC_CHUNK = 32;

/**
 * A synchronous operation back to back on this thread for `durationMs`, after a warm-up.
 * The event loop is blocked meanwhile, which is the point: nothing else of ours competes.
 */
export function timeSync(ctx: BenchContext, label: string, durationMs: number, fn: () => unknown): Throughput {
  ctx.progress.start(label, durationMs);
  for (let i = 0; i < ctx.durations.warmupOps; i++) fn();
  let ops = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    for (let i = 0; i < SYNC_CHUNK; i++) fn();
    ops += SYNC_CHUNK;
    elapsed = performance.now() - t0;
    ctx.progress.update(ops, elapsed);
  }
  const t = throughput(ops, elapsed);
  ctx.progress.finish(formatRate(t.rate));
  return t;
}

/**
 * A synchronous baseline timed in two halves: `before()` ahead of the rows compared with it,
 * `after()` once they are done. Other processes on the machine come and go; a baseline taken
 * only once, before a minute of load, would silently skew every ratio. The row's `drift` (how
 * far the halves differ) says how much the ratios can be trusted.
 */
export class BracketedBaseline {
  private first: Throughput | null = null;

  constructor(
    private readonly ctx: BenchContext,
    private readonly spec: RowSpec,
    private readonly fn: () => unknown,
  ) {}

  get id(): string {
    return this.spec.id;
  }

  before(): this {
    this.first = timeSync(this.ctx, `${this.spec.label} (1/2)`, this.ctx.durations.microMs / 2, this.fn);
    return this;
  }

  after(): Row {
    if (!this.first) throw new TypeError('BracketedBaseline.after() before before()');
    const second = timeSync(this.ctx, `${this.spec.label} (2/2)`, this.ctx.durations.microMs / 2, this.fn);
    const all = throughput(this.first.ops + second.ops, (this.first.seconds + second.seconds) * 1000);
    return { ...this.spec, unit: this.spec.unit ?? 'op/s', ...all, drift: Math.abs(this.first.rate - second.rate) / all.rate };
  }
}

export interface BatchedLoad<T> {
  /**
   * Makes `n` single-use inputs (signed proofs, assertions). Runs untimed, between rounds,
   * because proofs carry `iat` and a `jti` used once: they cannot all be made up front.
   */
  readonly prepare: (n: number) => Promise<T[]>;
  /** One operation; rejects when the answer is not the expected one. */
  readonly run: (item: T) => Promise<void>;
  readonly concurrency: number;
  readonly durationMs: number;
  /**
   * Busy time before each operation, untimed (one in flight only): the operation then meets
   * the machine as it is between calls of that pace, not as a back-to-back loop leaves it.
   */
  readonly pauseMs?: number;
}

/**
 * Keeps this thread busy (not asleep) for `ms`, as a process working on something else would;
 * returns how long it really took (more when the thread was preempted meanwhile).
 */
function busyFor(ms: number): number {
  const start = performance.now();
  const until = start + ms;
  let now = start;
  while (now < until) now = performance.now();
  return now - start;
}

export interface BatchedResult {
  readonly row: Row;
  /** How fast `prepare` made inputs (single thread, the server idle meanwhile). */
  readonly prepared: Throughput;
}

/**
 * Rounds of at most ~1 s each, so every proof is used within seconds of being signed (Warden
 * accepts a DPoP proof up to 60 s old). Only the rounds are timed; the round size follows the
 * rate measured so far. Each round drains before the next is prepared, so the last few
 * operations of a round run with fewer than `concurrency` in flight: with rounds of hundreds
 * of operations this costs well under 1 %.
 */
const ROUND_MS = 1000;
const MIN_ROUND = 16;
const MAX_ROUND = 20_000;

/** Runs `load` for its duration after a warm-up; per-operation latency and CPU use included. */
export async function measureBatched<T>(ctx: BenchContext, spec: RowSpec, load: BatchedLoad<T>): Promise<BatchedResult> {
  const [result] = await measureInterleaved(ctx, spec.label, [turn(spec, load)]);
  return result;
}

/** A load to measure turn about with others ({@link measureInterleaved}), its input type erased. */
export interface Turn {
  readonly spec: RowSpec;
  readonly load: BatchedLoad<unknown>;
}

export function turn<T>(spec: RowSpec, load: BatchedLoad<T>): Turn {
  // Each load only ever gets back the inputs its own `prepare` made.
  return { spec, load: load as unknown as BatchedLoad<unknown> };
}

/**
 * Several loads measured turn about, a round (~1 s) of each in order until each has run for its
 * duration, each after its own warm-up. This machine's speed comes and goes with its neighbours
 * over tens of seconds; loads measured one after the other would each see a different machine,
 * and the ratio between them would say more about the neighbours than about Warden. Turn about,
 * each load sees every phase of the run.
 */
export async function measureInterleaved<const L extends readonly Turn[]>(ctx: BenchContext, label: string, loads: L): Promise<{ -readonly [K in keyof L]: BatchedResult }> {
  const total = loads.reduce((n, l) => n + l.load.durationMs, 0);
  ctx.progress.start(label, total);
  const runs = loads.map((l) => new BatchedRun(ctx, l.spec, l.load));
  for (const r of runs) await r.warmUp();
  const progress = () => {
    let ops = 0;
    let ms = 0;
    for (const r of runs) {
      ops += r.ops;
      ms += r.timedMs;
    }
    ctx.progress.update(ops, ms);
  };
  while (runs.some((r) => !r.done)) {
    for (const r of runs) if (!r.done) await r.round(progress);
  }
  const results = runs.map((r) => r.result());
  ctx.progress.finish(results.map((r) => `${formatRate(r.row.rate)}, p50 ${r.row.latencyMs!.p50.toFixed(2)} ms, p99 ${r.row.latencyMs!.p99.toFixed(2)} ms`).join(' · '));
  return results as { -readonly [K in keyof L]: BatchedResult };
}

/** One load's rounds, latency samples and CPU time; see {@link measureInterleaved}. */
class BatchedRun<T> {
  private readonly samples = new Samples();
  timedMs = 0;
  private cpuMicros = 0;
  private prepOps = 0;
  private prepMs = 0;
  private size: number;
  private readonly pauseMs: number;

  constructor(
    private readonly ctx: BenchContext,
    private readonly spec: RowSpec,
    private readonly load: BatchedLoad<T>,
  ) {
    this.size = Math.max(MIN_ROUND, Math.min(ctx.durations.warmupOps, MAX_ROUND));
    this.pauseMs = load.pauseMs ?? 0;
    if (this.pauseMs > 0 && load.concurrency !== 1) throw new TypeError('a paced load runs one operation at a time');
  }

  /** The load's pause before an operation, if it has one; how long it really took. */
  private pause(): number {
    return this.pauseMs > 0 ? busyFor(this.pauseMs) : 0;
  }

  get done(): boolean {
    return this.timedMs >= this.load.durationMs;
  }

  get ops(): number {
    return this.samples.count;
  }

  async warmUp(): Promise<void> {
    this.ctx.progress.status(`warming up: ${this.spec.label} (${this.ctx.durations.warmupOps} ops)`);
    await runPool(await this.load.prepare(this.ctx.durations.warmupOps), this.load.concurrency, (item) => {
      this.pause();
      return this.load.run(item);
    });
  }

  async round(progress: () => void): Promise<void> {
    this.ctx.progress.status(`preparing ${this.size.toLocaleString('en-US')} inputs: ${this.spec.label}`);
    const p0 = performance.now();
    const items = await this.load.prepare(this.size);
    this.prepMs += performance.now() - p0;
    this.prepOps += items.length;

    let paused = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    await runPool(items, this.load.concurrency, async (item) => {
      paused += this.pause();
      const s = performance.now();
      await this.load.run(item);
      this.samples.push(performance.now() - s);
      if (++n % 64 === 0) progress();
    });
    // The pauses are not the operations' time. (Nor their CPU; a paced row reports none, since
    // the operations' CPU is too small a part of the round's to be told apart from the pauses'.)
    const dt = performance.now() - t0 - paused;
    const cpu = process.cpuUsage(cpu0);
    this.cpuMicros += cpu.user + cpu.system;
    this.timedMs += dt;
    progress();

    const perMs = items.length / dt;
    const left = Math.min(ROUND_MS, this.load.durationMs - this.timedMs);
    this.size = Math.max(MIN_ROUND, Math.min(MAX_ROUND, Math.ceil(perMs * left)));
  }

  result(): BatchedResult {
    const t = throughput(this.samples.count, this.timedMs);
    const latencyMs: LatencySummary = this.samples.summarize();
    return {
      row: { ...this.spec, unit: this.spec.unit ?? 'op/s', ...t, latencyMs, ...(this.pauseMs > 0 ? {} : { cpuCores: this.cpuMicros / 1000 / this.timedMs }) },
      prepared: throughput(this.prepOps, this.prepMs),
    };
  }
}

/** Runs `fn` over `items` with at most `concurrency` in flight; stops at the first failure. */
export async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
