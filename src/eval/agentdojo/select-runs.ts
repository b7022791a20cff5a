import { createHash } from 'node:crypto';

/** Which runs of a trace file to replay. */
export interface Selection {
  /** Only runs of these suites. */
  readonly suites?: readonly string[];
  /** A deterministic subset of this many runs (the same runs on every machine and every run). */
  readonly sample?: number;
  /** At most this many runs, the first in file order (after `suites` and `sample`). */
  readonly limit?: number;
}

const rank = (id: string): string => createHash('sha256').update(id).digest('hex');

/**
 * The runs to replay, in file order. `sample` keeps the runs whose SHA-256 of the id ranks
 * lowest: a fixed pseudo-random subset that does not depend on the file's order, spreads over
 * suites, models and attacks alike, and grows by adding runs (a sample of 2,000 contains the
 * sample of 1,000).
 */
export function selectRuns<T extends { readonly id: string; readonly suite: string }>(runs: readonly T[], sel: Selection): T[] {
  for (const [name, n] of [['sample', sel.sample], ['limit', sel.limit]] as const) {
    if (n !== undefined && (!Number.isSafeInteger(n) || n < 1)) throw new TypeError(`${name} must be a positive integer`);
  }
  let picked = sel.suites ? runs.filter((r) => sel.suites!.includes(r.suite)) : [...runs];
  if (sel.sample !== undefined && sel.sample < picked.length) {
    const keep = new Set(
      picked
        .map((r) => ({ id: r.id, rank: rank(r.id) }))
        .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
        .slice(0, sel.sample)
        .map((r) => r.id),
    );
    picked = picked.filter((r) => keep.has(r.id));
  }
  return sel.limit !== undefined ? picked.slice(0, sel.limit) : picked;
}
