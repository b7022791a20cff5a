import type { Clock } from '../util/clock.js';

/**
 * A small map whose entries are loaded on demand and kept for `ttlMs`. At most `max` entries
 * are kept (the oldest loaded goes first). Concurrent misses of one key share one load.
 *
 * `invalidate` wins over loads already under way: a load that started before it is returned
 * to its callers but not kept, so a value read before a change never outlives the change.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; loadedAt: number }>();
  private readonly loading = new Map<string, Promise<V>>();
  private generation = 0;

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    const now = this.clock.now();
    // A clock that went back also counts as stale: the entry's age is unknown.
    if (hit && now >= hit.loadedAt && now - hit.loadedAt < this.ttlMs) return hit.value;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const generation = this.generation;
    const promise = load().then(
      (value) => {
        if (this.loading.get(key) === promise) this.loading.delete(key);
        if (generation === this.generation) this.keep(key, value, now);
        return value;
      },
      (err: unknown) => {
        if (this.loading.get(key) === promise) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, promise);
    return promise;
  }

  /** Forgets `key`, or every key; loads under way are not kept. */
  invalidate(key?: string): void {
    this.generation++;
    if (key === undefined) {
      this.entries.clear();
      this.loading.clear();
    } else {
      this.entries.delete(key);
      this.loading.delete(key);
    }
  }

  private keep(key: string, value: V, loadedAt: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, loadedAt });
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}
