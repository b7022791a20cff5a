import { Client, Pool, type Dispatcher } from 'undici';
import { pinnedLookup, type CheckedTarget } from './safe-lookup.js';

/** Connect options that send every socket of a dispatcher to the one checked address. */
function pinnedConnect(target: CheckedTarget): { lookup: ReturnType<typeof pinnedLookup>; autoSelectFamily: false } {
  return { lookup: pinnedLookup(target), autoSelectFamily: false };
}

/** A dispatcher for one call and the way to let it go afterwards. */
export interface Lease {
  readonly dispatcher: Dispatcher;
  /** Called once the response is read or the call failed. */
  release(): void;
}

/**
 * Keep-alive connections to upstreams, one undici `Pool` per origin AND checked address.
 * Keying by address is what keeps reuse safe: a call only ever reuses a socket that was
 * opened to the very address its own check passed, so a pool never carries a request to an
 * address chosen for someone else or before a DNS change. The least recently used pools are
 * closed beyond `maxPools` (names with many rotating addresses would otherwise grow it).
 */
export class ConnectionPool {
  private readonly pools = new Map<string, Pool>();
  private closed = false;

  constructor(private readonly maxPools = 256) {}

  /** A pooled dispatcher to `origin` (scheme, host, port) through `target`. */
  lease(origin: string, target: CheckedTarget): Lease {
    if (this.closed) throw new TypeError('ConnectionPool is closed');
    const key = `${origin} ${target.address}`;
    let pool = this.pools.get(key);
    if (pool) {
      this.pools.delete(key);
    } else {
      pool = new Pool(origin, { connect: pinnedConnect(target) });
    }
    this.pools.set(key, pool);
    for (const [oldest, old] of this.pools) {
      if (this.pools.size <= this.maxPools) break;
      this.pools.delete(oldest);
      void old.close().catch(() => {});
    }
    return { dispatcher: pool, release: () => {} };
  }

  /** Closes every pooled connection (on shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((p) => p.close()));
  }
}

/** A connection for one call only, torn down when it is released (no pool given). */
export function oneShot(origin: string, target: CheckedTarget): Lease {
  const client = new Client(origin, { connect: pinnedConnect(target) });
  return { dispatcher: client, release: () => void client.destroy().catch(() => {}) };
}
