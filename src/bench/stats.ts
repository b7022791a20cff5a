import type { LatencySummary } from './section.js';

/** Latency samples in milliseconds, growing without copying every push. */
export class Samples {
  private data = new Float64Array(1024);
  private length = 0;

  push(ms: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = ms;
  }

  get count(): number {
    return this.length;
  }

  summarize(): LatencySummary {
    if (this.length === 0) throw new TypeError('no samples to summarize');
    const sorted = this.data.slice(0, this.length).sort();
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! };
  }
}

/** Nearest-rank percentile of ascending samples: a value that was actually observed. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) throw new TypeError('percentile of no samples');
  if (!(p > 0 && p <= 100)) throw new TypeError('percentile must be in (0, 100]');
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(rank, 1)) - 1]!;
}

/** Rate of a pipeline whose steps run one after another on one thread: 1 / Σ(1 / rateᵢ). */
export function serialRate(rates: readonly number[]): number {
  if (rates.length === 0 || rates.some((r) => !(r > 0))) throw new TypeError('serialRate needs positive rates');
  return 1 / rates.reduce((sum, r) => sum + 1 / r, 0);
}

/** Microseconds one operation takes at this rate, on one thread. */
export function microsPerOp(rate: number): number {
  return 1e6 / rate;
}
