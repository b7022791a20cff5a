import type { Revocation, RevocationKind } from '../domain/index.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';

/** What a credential is made of, as far as revocation is concerned. */
export interface RevocableParts {
  readonly jti: string;
  readonly task: string;
  readonly agent: string;
  readonly jkt: string;
}

/**
 * The in-memory view of every active revocation, checked on every request without a database
 * round trip. Revocations made through this process apply before the API call that made them
 * returns; revocations from other replicas arrive by the store's change notification
 * (PostgreSQL LISTEN/NOTIFY), with a periodic full reload as a safety net for lost ones.
 */
export class RevocationSet {
  private sets: Record<RevocationKind, Map<string, number | null>> = {
    token: new Map(),
    task: new Map(),
    agent: new Map(),
    key: new Map(),
  };
  private timer: NodeJS.Timeout | null = null;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly reloadEveryMs = 5_000,
  ) {}

  /** Loads the full set, then keeps it in sync with the store. */
  async start(): Promise<void> {
    await this.reload();
    this.store.onRevocationsChanged(() => void this.reload().catch(() => undefined));
    this.timer = setInterval(() => void this.reload().catch(() => undefined), this.reloadEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Replaces the view with the store's; concurrent calls share one load. */
  reload(): Promise<void> {
    if (this.loading) return this.loading;
    this.loading = (async () => {
      try {
        const rows = await this.store.listActiveRevocations(this.clock.now());
        const next: typeof this.sets = { token: new Map(), task: new Map(), agent: new Map(), key: new Map() };
        for (const r of rows) next[r.kind].set(r.value, r.expiresAt);
        this.sets = next;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  /** Persists a revocation, applies it here at once, and tells the other replicas. */
  async revoke(rev: Revocation): Promise<void> {
    await this.store.upsertRevocation(rev);
    this.sets[rev.kind].set(rev.value, rev.expiresAt);
    await this.store.notifyRevocationsChanged();
  }

  /** Lifts a suspension (agent resumed). */
  async lift(kind: RevocationKind, value: string): Promise<void> {
    await this.store.liftRevocation(kind, value, this.clock.now());
    this.sets[kind].delete(value);
    await this.store.notifyRevocationsChanged();
  }

  /** The first revocation that covers the credential, or null. */
  check(parts: RevocableParts): RevocationKind | null {
    const now = this.clock.now();
    if (this.active('token', parts.jti, now)) return 'token';
    if (this.active('task', parts.task, now)) return 'task';
    if (this.active('agent', parts.agent, now)) return 'agent';
    if (this.active('key', parts.jkt, now)) return 'key';
    return null;
  }

  private active(kind: RevocationKind, value: string, now: number): boolean {
    if (!this.sets[kind].has(value)) return false;
    const expiresAt = this.sets[kind].get(value);
    return expiresAt === null || expiresAt === undefined || expiresAt > now;
  }
}
