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
  ctx.progress.start(spec.label, load.durationMs);
  ctx.progress.status(`warming up (${ctx.durations.warmupOps} ops)`);
  await runPool(await load.prepare(ctx.durations.warmupOps), load.concurrency, load.run);

  const samples = new Samples();
  let timedMs = 0;
  let cpuMicros = 0;
  let prepOps = 0;
  let prepMs = 0;
  let round = Math.max(MIN_ROUND, Math.min(ctx.durations.warmupOps, MAX_ROUND));
  while (timedMs < load.durationMs) {
    ctx.progress.status(`preparing ${round.toLocaleString('en-US')} inputs`);
    const p0 = performance.now();
    const items = await load.prepare(round);
    prepMs += performance.now() - p0;
    prepOps += items.length;

    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const before = timedMs;
    await runPool(items, load.concurrency, async (item) => {
      const s = performance.now();
      await load.run(item);
      const e = performance.now();
      samples.push(e - s);
      ctx.progress.update(samples.count, before + (e - t0));
    });
    const dt = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    cpuMicros += cpu.user + cpu.system;
    timedMs += dt;

    const perMs = items.length / dt;
    const left = Math.min(ROUND_MS, load.durationMs - timedMs);
    round = Math.max(MIN_ROUND, Math.min(MAX_ROUND, Math.ceil(perMs * left)));
  }
  const t = throughput(samples.count, timedMs);
  const latencyMs: LatencySummary = samples.summarize();
  const cpuCores = cpuMicros / 1000 / timedMs;
  ctx.progress.finish(`${formatRate(t.rate)}, p50 ${latencyMs.p50.toFixed(2)} ms, p99 ${latencyMs.p99.toFixed(2)} ms`);
  return {
    row: { ...spec, unit: spec.unit ?? 'op/s', ...t, latencyMs, cpuCores },
    prepared: throughput(prepOps, prepMs),
  };
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
