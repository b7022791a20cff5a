import type { Logger } from 'pino';
import type { AuditNode, StoredCheckpoint } from '../domain/index.js';
import { WardenError } from '../errors/warden-error.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { signCheckpoint } from './checkpoint/index.js';
import type { CheckpointKey } from './checkpoint-key.js';
import { CompactRange, consistencyProof, inclusionProof, treeRoot } from './merkle/index.js';
import { StoreNodeSource } from './store-node-source.js';

const TILE = 256;
/** Rows read per page while hashing forward. */
const PAGE = 4096;

export interface InclusionAnswer {
  readonly seq: number;
  readonly size: number;
  /** base64 SHA-256(0x00 || entry) */
  readonly leafHash: string;
  /** base64 hashes, leaf to root (RFC 9162 §2.1.3.1). */
  readonly proof: readonly string[];
}

export interface ConsistencyAnswer {
  readonly from: number;
  readonly to: number;
  readonly proof: readonly string[];
}

/**
 * The tree side of the audit log: tiles, signed checkpoints and proofs.
 *
 * Checkpoints are made on a schedule when the log has grown and on demand. Making one hashes the
 * entries since the previous one into a frontier kept in memory (each entry is hashed into the
 * tree once), stores every tile that completes (256 leaves, 65,536, …) so proofs read at most a
 * few hundred hashes per level, and signs `<origin>\n<size>\n<root>\n` as a C2SP signed note.
 */
export class AuditService {
  private readonly source: StoreNodeSource;
  private range: CompactRange | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    readonly key: CheckpointKey,
    private readonly log?: Logger,
  ) {
    this.source = new StoreNodeSource(store);
  }

  /** Signs a checkpoint every `everySec` seconds while the log grows (0: never on its own). */
  start(everySec: number): void {
    if (everySec <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.checkpoint().catch((err: unknown) => this.log?.error({ err: (err as Error)?.message }, 'audit checkpoint failed'));
    }, everySec * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.queue.catch(() => undefined);
  }

  /**
   * The checkpoint at `size` (default: the whole log now), signed and stored; an existing one at
   * that size is returned as it is. One at a time: checkpoints are serialized.
   */
  checkpoint(size?: number): Promise<StoredCheckpoint> {
    const run = this.queue.then(() => this.makeCheckpoint(size));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async makeCheckpoint(requested?: number): Promise<StoredCheckpoint> {
    const { size: logSize } = await this.store.auditState();
    const size = requested ?? logSize;
    if (!Number.isSafeInteger(size) || size < 0 || size > logSize) throw new WardenError('INVALID_INPUT', { reason: 'no such tree size', size, logSize });
    const existing = await this.store.listCheckpoints({ fromSize: size, limit: 1 });
    if (existing[0]?.size === size) return existing[0];
    const root = size >= (this.range?.size ?? 0) ? await this.rootByHashingForward(size) : await treeRoot(this.source, size);
    const checkpoint = { size, root, time: this.clock.now(), note: signCheckpoint({ origin: this.key.origin, size, root }, this.key.signer) };
    await this.store.insertCheckpoint(checkpoint);
    // Another replica may have stored one at this size first; theirs stands.
    const stored = await this.store.listCheckpoints({ fromSize: size, limit: 1 });
    return stored[0]?.size === size ? stored[0] : checkpoint;
  }

  /** Extends the in-memory frontier to `size`, storing the tiles it completes, and returns the root. */
  private async rootByHashingForward(size: number): Promise<Buffer> {
    if (!this.range) {
      // Resume at the last tile boundary the previous checkpoint covered (its tiles are stored).
      const latest = await this.store.latestCheckpoint();
      const start = Math.floor(Math.min(latest?.size ?? 0, size) / TILE) * TILE;
      this.range = await CompactRange.fromSource(this.source, start);
    }
    const range = this.range;
    try {
      while (range.size < size) {
        const rows = await this.store.auditRange(range.size, Math.min(size, range.size + PAGE));
        const tiles: AuditNode[] = [];
        for (const row of rows) {
          if (row.seq !== range.size) throw new WardenError('INTERNAL', { reason: 'audit log has a gap', seq: range.size });
          range.append(row.leaf, (level, index, hash) => {
            if (level > 0) tiles.push({ level, index, hash });
          });
        }
        if (rows.length === 0) throw new WardenError('INTERNAL', { reason: 'audit log has a gap', seq: range.size });
        if (tiles.length > 0) await this.store.putAuditNodes(tiles);
      }
    } catch (err) {
      this.range = null;
      throw err;
    }
    return range.root();
  }

  async inclusion(seq: number, size?: number): Promise<InclusionAnswer> {
    const treeSize = size ?? (await this.store.latestCheckpoint())?.size ?? 0;
    const { size: logSize, archivedBelow } = await this.store.auditState();
    if (!(seq >= 0 && seq < treeSize && treeSize <= logSize)) throw new WardenError('INVALID_INPUT', { reason: 'the entry is not in a tree of that size', seq, size: treeSize });
    if (seq < archivedBelow) throw new WardenError('NOT_FOUND', { reason: 'the entry is archived', seq });
    const [row] = await this.store.auditRange(seq, seq + 1);
    if (!row) throw new WardenError('NOT_FOUND', { seq });
    const proof = await inclusionProof(this.source, seq, treeSize);
    return { seq, size: treeSize, leafHash: row.leaf.toString('base64'), proof: proof.map((h) => h.toString('base64')) };
  }

  async consistency(from: number, to: number): Promise<ConsistencyAnswer> {
    const { size: logSize } = await this.store.auditState();
    if (!(from > 0 && from <= to && to <= logSize)) throw new WardenError('INVALID_INPUT', { reason: 'need 0 < from <= to <= the log size', from, to });
    const proof = await consistencyProof(this.source, from, to);
    return { from, to, proof: proof.map((h) => h.toString('base64')) };
  }
}
