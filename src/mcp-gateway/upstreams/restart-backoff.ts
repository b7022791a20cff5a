import type { Clock } from '../../util/clock.js';

/** How restarts of a failing upstream are spaced. */
export interface BackoffOptions {
  /** The wait after the second failure in a row; it doubles with each further one. */
  readonly baseMs: number;
  /** The longest wait. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * A circuit breaker for restarts. The first failure allows an immediate restart (a one-off crash
 * should not fail the next call); from the second failure in a row, restarts wait `baseMs`,
 * doubling up to `maxMs`, and calls in that window fail at once instead of piling onto a server
 * that keeps dying. Deterministic (no jitter): one Warden restarts its own children, so there
 * is no herd to spread, and tests can predict the waits.
 */
export class RestartBackoff {
  private failuresInARow = 0;
  private retryAt = 0;

  constructor(
    private readonly clock: Clock,
    private readonly opts: BackoffOptions = DEFAULT_BACKOFF,
  ) {
    if (!(opts.baseMs >= 0 && opts.maxMs >= opts.baseMs)) throw new TypeError('backoff needs 0 <= baseMs <= maxMs');
  }

  /** Milliseconds before a restart may be tried; 0 when it may be tried now. */
  remainingMs(): number {
    return Math.max(0, this.retryAt - this.clock.now());
  }

  /** A start failed, or a running session died. */
  failed(): void {
    this.failuresInARow++;
    const n = this.failuresInARow;
    const wait = n <= 1 ? 0 : Math.min(this.opts.baseMs * 2 ** Math.min(n - 2, 30), this.opts.maxMs);
    this.retryAt = this.clock.now() + wait;
  }

  /** The upstream answered a request: it is healthy again. */
  succeeded(): void {
    this.failuresInARow = 0;
    this.retryAt = 0;
  }

  get failures(): number {
    return this.failuresInARow;
  }
}
