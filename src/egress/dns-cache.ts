import type { ResolvedAddress, Resolver } from './safe-lookup.js';

/**
 * Answers of the resolver kept for a while per host name, so that a proxied request to a named
 * upstream does not wait on `getaddrinfo` (a trip through libuv's thread pool, and the system
 * resolver's own) every time. Lookups of a name under way are shared. Failures and empty answers
 * are not kept: the next call asks again.
 *
 * Safe against DNS rebinding as before: what is kept is only the resolver's answer, and every
 * call still checks every address of it against its upstream's address policy and connects to
 * the one it checked (`resolveTarget`, `pinnedLookup`). What the cache changes is freshness: a
 * DNS change reaches Warden within the upstream's `dnsCacheMs` rather than at the next call.
 */
export class DnsCache {
  private readonly entries = new Map<string, { readonly at: number; readonly answers: readonly ResolvedAddress[] }>();
  private readonly pending = new Map<string, Promise<readonly ResolvedAddress[]>>();

  constructor(
    private readonly now: () => number = () => performance.now(),
    /** Most names kept; HTTP upstreams come from the config, so this is rarely reached. */
    private readonly maxNames = 1024,
  ) {}

  /** The resolver, answering from the cache for up to `ttlMs` after a lookup (0: always ask). */
  resolver(resolve: Resolver, ttlMs: number): Resolver {
    return ttlMs > 0 ? (hostname) => this.lookup(hostname, ttlMs, resolve) : resolve;
  }

  private lookup(hostname: string, ttlMs: number, resolve: Resolver): Promise<readonly ResolvedAddress[]> {
    const hit = this.entries.get(hostname);
    if (hit && this.now() - hit.at < ttlMs) return Promise.resolve(hit.answers);
    let pending = this.pending.get(hostname);
    if (!pending) {
      pending = resolve(hostname)
        .then((answers) => {
          const kept = Object.freeze(answers.map((a) => Object.freeze({ address: a.address, family: a.family })));
          if (kept.length > 0) {
            this.entries.delete(hostname);
            if (this.entries.size >= this.maxNames) this.entries.delete(this.entries.keys().next().value as string);
            this.entries.set(hostname, { at: this.now(), answers: kept });
          }
          return kept;
        })
        .finally(() => this.pending.delete(hostname));
      this.pending.set(hostname, pending);
    }
    return pending;
  }
}
