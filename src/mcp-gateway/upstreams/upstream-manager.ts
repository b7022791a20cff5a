import type { ErrorCode } from '../../errors/registry.js';
import { WardenError } from '../../errors/warden-error.js';
import type { ToolIssue, UpstreamTool } from './tool-definition.js';
import type { McpUpstream } from './upstream-config.js';
import { UpstreamConnection, type CallOptions, type UpstreamConnectionOptions, type UpstreamStatus } from './upstream-connection.js';

/** One upstream's part of {@link UpstreamManager.listAll}. */
export type UpstreamListing =
  | { readonly kind: 'listed'; readonly upstream: string; readonly tools: UpstreamTool[]; readonly issues: ToolIssue[] }
  | {
      readonly kind: 'failed';
      readonly upstream: string;
      readonly code: ErrorCode;
      /** While the upstream's restart circuit is open. */
      readonly retryAfterMs?: number;
    };

/**
 * The configured upstream MCP servers, one lazy {@link UpstreamConnection} each. Nothing starts
 * here: each upstream starts on its first use.
 */
export class UpstreamManager {
  private readonly connections: ReadonlyMap<string, UpstreamConnection>;
  private closing: Promise<void> | undefined;

  /** @throws TypeError when two upstreams share a name (the config schema rejects that first). */
  constructor(upstreams: readonly McpUpstream[], opts: UpstreamConnectionOptions) {
    const connections = new Map<string, UpstreamConnection>();
    for (const upstream of upstreams) {
      if (connections.has(upstream.name)) throw new TypeError(`duplicate upstream name: ${upstream.name}`);
      connections.set(upstream.name, new UpstreamConnection(upstream, opts));
    }
    this.connections = connections;
  }

  /** @throws WardenError UPSTREAM_UNKNOWN when no upstream has that name. */
  get(name: string): UpstreamConnection {
    const connection = this.connections.get(name);
    if (!connection) throw new WardenError('UPSTREAM_UNKNOWN', { upstream: typeof name === 'string' ? name.slice(0, 63) : null });
    return connection;
  }

  names(): string[] {
    return [...this.connections.keys()];
  }

  statuses(): UpstreamStatus[] {
    return [...this.connections.values()].map((c) => c.status());
  }

  /**
   * Lists every upstream's tools in parallel (starting those not running). An upstream that
   * fails does not fail the others: its entry carries the error code instead. In config order.
   */
  async listAll(opts: CallOptions = {}): Promise<UpstreamListing[]> {
    return Promise.all(
      [...this.connections.values()].map(async (connection): Promise<UpstreamListing> => {
        try {
          const { tools, issues } = await connection.listTools(opts);
          return { kind: 'listed', upstream: connection.name, tools, issues };
        } catch (err) {
          if (!(err instanceof WardenError)) throw err;
          const retryAfterMs = err.details?.retryAfterMs;
          return {
            kind: 'failed',
            upstream: connection.name,
            code: err.code,
            ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
          };
        }
      }),
    );
  }

  /**
   * Tells `listener` the name of each upstream whose tool list may have changed (its
   * `list_changed` notification, or a restart). Returns the unsubscribe function.
   */
  onToolsChanged(listener: (upstream: string) => void): () => void {
    const offs = [...this.connections.values()].map((c) => c.onToolsChanged(() => listener(c.name)));
    return () => offs.forEach((off) => off());
  }

  /** The values injected into every upstream, for redacting echoes of them. */
  injectedValues(): string[] {
    return [...new Set([...this.connections.values()].flatMap((c) => c.injectedValues()))];
  }

  /** Closes every upstream (children killed). Idempotent. */
  close(): Promise<void> {
    this.closing ??= Promise.allSettled([...this.connections.values()].map((c) => c.close())).then(() => {});
    return this.closing;
  }
}
