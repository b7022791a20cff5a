/**
 * How many calls are inside the pipeline right now (from limits to record-outcome, waits on
 * upstreams and approvals included). The DPoP check reads it to choose where a proof's
 * signature is verified: with other calls in flight, on libuv's thread pool, so the event loop
 * serves them meanwhile; with none, on the event loop itself, because handing the check to
 * another thread and waking up for its answer costs more than the check when nothing else waits.
 */
export class CallsInFlight {
  private n = 0;

  get count(): number {
    return this.n;
  }

  /** Runs `fn` counted as one call in flight. */
  async around<T>(fn: () => Promise<T>): Promise<T> {
    this.n++;
    try {
      return await fn();
    } finally {
      this.n--;
    }
  }
}
