/**
 * Per-agent request rates: one token bucket per key, refilled continuously at `ratePerSec`
 * up to `burst`. Buckets live in this process (each replica enforces the rate on the requests
 * it serves, as a local rate limit does in Envoy or agentgateway); idle buckets are dropped so
 * the map stays bounded by the number of recently active agents.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private sweepAt = 0;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSec > 0) || !(burst >= 1)) throw new TypeError('RateLimiter needs ratePerSec > 0 and burst >= 1');
  }

  /** Takes one token for `key`: `{ ok: true }`, or how long until one is available. */
  take(key: string): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = this.now();
    this.sweep(now);
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerSec);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - b.tokens) / this.ratePerSec) * 1000) };
  }

  /** A bucket full again is the same as no bucket: drop those, at most once a second. */
  private sweep(now: number): void {
    if (now < this.sweepAt) return;
    this.sweepAt = now + 1000;
    const full = (this.burst / this.ratePerSec) * 1000;
    for (const [key, b] of this.buckets) if (now - b.at >= full) this.buckets.delete(key);
  }
}
