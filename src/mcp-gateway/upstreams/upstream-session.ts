import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { WardenError } from '../../errors/warden-error.js';
import type { SandboxLaunch } from '../../sandbox/sandbox-host.js';
import type { ProgressListener } from '../progress-relay.js';

/**
 * One life of an upstream: a client, its transport and, for stdio, the child process. A session
 * dies once (child exit, broken transport, oversized message, close) and is then replaced, never
 * revived. Calls in flight on it run through `guard`, so each fails with the cause at that
 * moment instead of waiting for an answer that will not come.
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
  /** The calls in flight, each until it settles: what `die` fails. */
  private readonly inFlight = new Set<(cause: WardenError) => void>();
  /** Listeners of the calls that asked for progress, by the progress token Warden sent with each. */
  readonly progress = new Map<string, ProgressListener>();
  private nextProgressToken = 0;

  /** A progress token for one call of this session, never used by another. */
  progressToken(): string {
    return `warden-${++this.nextProgressToken}`;
  }

  /**
   * Takes the upstream's `notifications/progress` off the transport before the SDK's protocol
   * sees them, and hands each to the listener of its call, in order and at once. Through the
   * SDK's own `onprogress`, a report that arrives in the same read as its call's answer is lost:
   * the answer removes the handler before the report's turn comes (modelcontextprotocol/
   * typescript-sdk#2580), and it is the last report, the one that says the work is done.
   * A report for no call in flight (one that ended) is dropped. Call once the SDK is connected.
   */
  captureProgress(): void {
    const transport = this.transport;
    const sdk = transport?.onmessage;
    if (!transport || !sdk) return;
    transport.onmessage = (message, extra) => {
      const m = message as { method?: unknown; id?: unknown; params?: { progressToken?: unknown; progress?: unknown; total?: unknown } };
      if (m.method === 'notifications/progress' && m.id === undefined) {
        const token = m.params?.progressToken;
        const listener = typeof token === 'string' ? this.progress.get(token) : undefined;
        const { progress, total } = m.params ?? {};
        if (listener && typeof progress === 'number') listener({ progress, ...(typeof total === 'number' ? { total } : {}) });
        return;
      }
      sdk.call(transport, message, extra as never);
    };
  }

  /**
   * `work`, unless the session dies first: then its cause. Not a race against one shared
   * "lost" promise, which would keep a reaction (and with it every call's result) for each call
   * ever made on a healthy session: a settled call leaves nothing behind here.
   */
  guard<T>(work: Promise<T>): Promise<T> {
    if (this.deathCause) {
      work.catch(() => {});
      return Promise.reject(this.deathCause);
    }
    return new Promise<T>((resolve, reject) => {
      const onDeath = (cause: WardenError): void => reject(cause);
      this.inFlight.add(onDeath);
      work.then(
        (value) => {
          this.inFlight.delete(onDeath);
          resolve(value);
        },
        (err: unknown) => {
          this.inFlight.delete(onDeath);
          reject(err);
        },
      );
    });
  }

  /** How many calls are in flight on the session. */
  get calls(): number {
    return this.inFlight.size;
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
    for (const fail of this.inFlight) fail(cause);
    this.inFlight.clear();
    return true;
  }
}
