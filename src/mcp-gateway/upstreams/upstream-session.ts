import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { WardenError } from '../../errors/warden-error.js';
import type { SandboxLaunch } from '../../sandbox/sandbox-host.js';

/**
 * One life of an upstream: a client, its transport and, for stdio, the child process. A session
 * dies once (child exit, broken transport, oversized message, close) and is then replaced, never
 * revived. `lost` rejects with the cause at that moment, so every call in flight on the session
 * can race it and fail at once instead of waiting for an answer that will not come.
 */
export class UpstreamSession {
  transport: StdioClientTransport | StreamableHTTPClientTransport | InMemoryTransport | undefined;
  client: Client | undefined;
  /** The sandbox a stdio child runs in (released after the child is gone). */
  sandbox: SandboxLaunch | undefined;
  /** The in-process server of a built-in upstream. */
  builtin: Server | undefined;
  /** Set once the handshake completed and the session serves calls. */
  startedAt: number | undefined;
  private knownPid: number | undefined;
  private deathCause: WardenError | undefined;
  private rejectLost!: (err: WardenError) => void;
  readonly lost: Promise<never>;

  constructor() {
    this.lost = new Promise<never>((_, reject) => {
      this.rejectLost = reject;
    });
    // Nobody may be racing it when it rejects.
    this.lost.catch(() => {});
  }

  /**
   * The child's pid (stdio). Remembered on each read, because the SDK forgets its process as
   * soon as it starts closing it, and the pid is still needed to make sure it is gone.
   */
  pid(): number | undefined {
    const live = this.transport && 'pid' in this.transport ? (this.transport.pid ?? undefined) : undefined;
    if (live !== undefined) this.knownPid = live;
    return this.knownPid;
  }

  get death(): WardenError | undefined {
    return this.deathCause;
  }

  /** Marks the session dead. Returns false when it already was (the first cause wins). */
  die(cause: WardenError): boolean {
    if (this.deathCause) return false;
    this.pid();
    this.deathCause = cause;
    this.rejectLost(cause);
    return true;
  }
}
