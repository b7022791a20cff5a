import { z } from 'zod';
import { SECRET_MAX_VALUE_BYTES, SecretNameSchema, type Actor, type SecretVersion } from '../domain/index.js';
import { WardenError } from '../errors/warden-error.js';
import type { EventLog } from '../events/event-log.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { parseInput } from '../util/parse-input.js';
import { openSecret, sealSecret } from './cipher.js';
import type { MasterKey } from './master-key.js';
import { TtlCache } from './ttl-cache.js';

/** Longest a rotated-out version may stay live. */
export const MAX_OVERLAP_SEC = 30 * 24 * 3600;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A secret value: 1 byte to 64 KiB of UTF-8. A string with a lone surrogate has no UTF-8 form,
 * so it could not come back as it went in. Messages never quote the value.
 */
export const SecretValueSchema = z
  .string()
  .refine((v) => v.length > 0, 'must not be empty')
  .refine((v) => Buffer.byteLength(v, 'utf8') <= SECRET_MAX_VALUE_BYTES, `must be at most ${SECRET_MAX_VALUE_BYTES} bytes of UTF-8`)
  .refine((v) => !LONE_SURROGATE.test(v), 'must be valid Unicode');

export const OverlapSecSchema = z.number().int().min(0).max(MAX_OVERLAP_SEC);

/** What a `set` or `rotate` did. Never the value. */
export interface SecretChange {
  readonly name: string;
  /** The new, current version. */
  readonly version: number;
  readonly createdAt: number;
  /** The version it replaced, or null for a new secret. */
  readonly previousVersion: number | null;
  /** When the replaced version stops (or stopped) being live; null for a new secret. */
  readonly previousLiveUntil: number | null;
}

/** One secret as listed: versions and times, never a value. */
export interface SecretSummary {
  readonly name: string;
  /** The current version: the one `resolve` returns. */
  readonly version: number;
  readonly createdAt: number;
  readonly createdBy: Actor;
  /** Every live version, newest first; all but the current one have a `notAfter`. */
  readonly live: readonly { readonly version: number; readonly createdAt: number; readonly notAfter: number | null }[];
}

export interface SecretServiceOptions {
  /**
   * How long decrypted values are reused before the store is read again: the longest another
   * replica's `set` or `rotate` can go unseen here. Default 5 s.
   */
  readonly cacheTtlMs?: number;
  /** How many secrets' values are kept decrypted at most. Default 1000. */
  readonly cacheMax?: number;
}

interface LiveValue {
  readonly version: number;
  readonly value: string;
  readonly notAfter: number | null;
}

const isLive = (notAfter: number | null, now: number): boolean => notAfter === null || notAfter > now;

/**
 * The secret store for upstream credentials: values are sealed with AES-256-GCM under the
 * master key before they reach the database, and only leave this class through `resolve`
 * (injection) and `liveValues` (redaction). Every change is recorded as an event naming the
 * secret and version, never the value or anything derived from it.
 *
 * Versions: `set` makes a new version current and every earlier one dead at once; `rotate`
 * keeps the previous version live for an overlap (in-flight calls still use it, and its echoes
 * are still redacted), then it is dead.
 */
export class SecretService {
  private readonly values: TtlCache<readonly LiveValue[]>;
  private readonly names: TtlCache<readonly string[]>;

  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly key: MasterKey,
    private readonly clock: Clock,
    opts: SecretServiceOptions = {},
  ) {
    const ttl = opts.cacheTtlMs ?? 5_000;
    this.values = new TtlCache(clock, ttl, opts.cacheMax ?? 1000);
    this.names = new TtlCache(clock, ttl, 1);
  }

  /** Stores `value` as the new version of `name` (creating it); earlier versions stop being live now. */
  async set(name: string, value: string, actor: Actor): Promise<SecretChange> {
    const change = await this.addVersion(parseInput(SecretNameSchema, name), parseInput(SecretValueSchema, value), 0, actor);
    await this.events.record({
      type: 'secret.set',
      outcome: 'success',
      actor,
      subject: change.name,
      data: { name: change.name, version: change.version },
    });
    return change;
  }

  /**
   * Stores `value` as the new version of an existing secret; the previous version stays live
   * for `overlapSec` more seconds (an earlier end it already had is kept). Rejects with
   * SECRET_NOT_FOUND for a secret that does not exist: there is nothing to overlap with.
   */
  async rotate(name: string, value: string, opts: { overlapSec: number }, actor: Actor): Promise<SecretChange> {
    const n = parseInput(SecretNameSchema, name);
    const v = parseInput(SecretValueSchema, value);
    const overlapSec = parseInput(OverlapSecSchema, opts.overlapSec);
    if ((await this.store.getLiveSecretVersions(n, this.clock.now())).length === 0) throw new WardenError('SECRET_NOT_FOUND', { name: n });
    const change = await this.addVersion(n, v, overlapSec, actor);
    await this.events.record({
      type: 'secret.rotate',
      outcome: 'success',
      actor,
      subject: change.name,
      data: { name: change.name, version: change.version, overlapSec, previousLiveUntil: change.previousLiveUntil },
    });
    return change;
  }

  /** Every secret with its live versions, by name. Values are neither read nor decrypted. */
  async list(): Promise<SecretSummary[]> {
    const byName = new Map<string, SecretSummary>();
    for (const m of await this.store.listLiveSecretVersions(this.clock.now())) {
      const live = { version: m.version, createdAt: m.createdAt, notAfter: m.notAfter };
      const seen = byName.get(m.name);
      // The store lists newest first, so the first row of a name is its current version.
      if (seen) byName.set(m.name, { ...seen, live: [...seen.live, live] });
      else byName.set(m.name, { name: m.name, version: m.version, createdAt: m.createdAt, createdBy: m.createdBy, live: [live] });
    }
    return [...byName.values()];
  }

  /**
   * The current value of `name`, for injection into an upstream call. Served from a short-lived
   * cache (see `SecretServiceOptions.cacheTtlMs`). Rejects with SECRET_NOT_FOUND, or with
   * SECRET_KEY_MISMATCH / SECRET_TAMPERED when the stored value cannot be opened.
   */
  async resolve(name: string): Promise<string> {
    const n = parseInput(SecretNameSchema, name);
    const now = this.clock.now();
    const current = (await this.liveOf(n)).find((v) => isLive(v.notAfter, now));
    if (!current) throw new WardenError('SECRET_NOT_FOUND', { name: n });
    return current.value;
  }

  /**
   * Every live value of every secret, without duplicates, for the response scanner to redact.
   * Rejects if any of them cannot be opened: a scanner that cannot know every value must not
   * pass a response as clean.
   */
  async liveValues(): Promise<string[]> {
    const names = await this.names.get('names', async () => [...new Set((await this.store.listLiveSecretVersions(this.clock.now())).map((m) => m.name))]);
    const lists = await Promise.all(names.map((n) => this.liveOf(n)));
    const now = this.clock.now();
    return [...new Set(lists.flat().filter((v) => isLive(v.notAfter, now)).map((v) => v.value))];
  }

  /**
   * Names of secrets with a live version sealed under another master key: non-empty means
   * this process was started with the wrong key, and `resolve` will fail for them.
   */
  async sealedUnderOtherKeys(): Promise<string[]> {
    const metas = await this.store.listLiveSecretVersions(this.clock.now());
    return [...new Set(metas.filter((m) => m.keyId !== this.key.keyId).map((m) => m.name))];
  }

  private async addVersion(name: string, value: string, overlapSec: number, actor: Actor): Promise<SecretChange> {
    const now = this.clock.now();
    const previousNotAfter = now + overlapSec * 1000;
    let stored: SecretVersion;
    try {
      stored = await this.store.insertSecretVersion({ name, createdAt: now, createdBy: actor, previousNotAfter }, (version) =>
        sealSecret(this.key, value, { name, version }),
      );
    } finally {
      // Also after a failure: the outcome of a write that timed out is unknown.
      this.values.invalidate(name);
      this.names.invalidate();
    }
    const first = stored.version === 1;
    return {
      name,
      version: stored.version,
      createdAt: stored.createdAt,
      previousVersion: first ? null : stored.version - 1,
      previousLiveUntil: first ? null : previousNotAfter,
    };
  }

  private liveOf(name: string): Promise<readonly LiveValue[]> {
    return this.values.get(name, async () =>
      (await this.store.getLiveSecretVersions(name, this.clock.now())).map((s) => ({
        version: s.version,
        value: openSecret(this.key, s, { name: s.name, version: s.version }),
        notAfter: s.notAfter,
      })),
    );
  }
}
