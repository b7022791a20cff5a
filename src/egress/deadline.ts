import { untilAborted } from '../util/until-aborted.js';

/**
 * One time budget for a whole forwarded call (reading the agent's body, DNS, connect, upstream
 * answer, reading the response), cancelled early when the caller's own signal aborts (the
 * agent went away). It knows which of the two fired, so a timeout is reported as such.
 */
export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private expired = false;

  constructor(timeoutMs: number, caller?: AbortSignal) {
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort(new Error('egress deadline expired'));
    }, timeoutMs);
    this.signal = caller ? AbortSignal.any([this.controller.signal, caller]) : this.controller.signal;
  }

  /** True once the time budget ran out (as opposed to the caller cancelling). */
  get timedOut(): boolean {
    return this.expired;
  }

  /**
   * Settles like `promise`, or rejects as soon as the deadline fires: for steps such as
   * `dns.lookup` that take no signal of their own. The abandoned promise's outcome is ignored.
   */
  race<T>(promise: Promise<T>): Promise<T> {
    return untilAborted(promise, this.signal);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
