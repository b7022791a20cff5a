import type { Store } from '../store/store.js';
import { NodeUnavailable, type NodeSource } from './merkle/index.js';

/** Levels of the tree kept in `audit_nodes`, besides the leaves (C2SP tlog-tiles height 8). */
export const TILE_LEVELS = [8, 16, 24, 32] as const;

/**
 * The tree's hashes as the store holds them: leaf hashes from `audit_log.leaf`, complete tiles
 * from `audit_nodes`. Anything missing is NodeUnavailable, so the Merkle code falls back to a
 * lower level (and, at the leaves, fails: an archived or deleted entry has no hash here).
 */
export class StoreNodeSource implements NodeSource {
  readonly storedLevels = [0, ...TILE_LEVELS];

  constructor(private readonly store: Store) {}

  async nodes(level: number, from: number, to: number): Promise<Buffer[]> {
    if (level === 0) {
      const rows = await this.store.auditLeaves(from, to);
      if (rows.length !== to - from || rows.some((r, i) => r.seq !== from + i)) throw new NodeUnavailable(level, from, to);
      return rows.map((r) => r.leaf);
    }
    const nodes = await this.store.getAuditNodes(level, from, to);
    if (nodes.length !== to - from) throw new NodeUnavailable(level, from, to);
    return nodes.map((n) => n.hash);
  }
}
