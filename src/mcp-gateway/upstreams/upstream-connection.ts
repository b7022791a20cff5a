import { VERSION } from '../../version.js';
import { untilAborted } from '../../util/until-aborted.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResultSchema, McpError, ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ErrorCode } from '../../errors/registry.js';
import { WardenError, type ErrorDetails } from '../../errors/warden-error.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { terminateChild } from './child-reaper.js';
import { DEFAULT_BACKOFF, RestartBackoff, type BackoffOptions } from './restart-backoff.js';
import { StderrRing } from './stderr-ring.js';
import { validateToolDefinition, type ToolIssue, type UpstreamTool } from './tool-definition.js';
import type { McpUpstream } from './upstream-config.js';
import { UpstreamSession } from './upstream-session.js';
import { childEnvironment, definedEnvironment, httpTransport, resolveSecrets, stdioTransport, type ResolveSecret } from './upstream-transport.js';
import type { SandboxSummary } from '../../sandbox/sandbox-host.js';
import type { ProgressListener } from '../progress-relay.js';
import type { UpstreamSandboxing } from '../../sandbox/upstream-sandboxes.js';

export type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** What Warden tells upstream servers it is (MCP `initialize` `clientInfo`). */
const CLIENT_INFO = { name: 'warden', version: VERSION } as const;

/** A listing stops here, whatever the upstream's cursors say. */
export const MAX_TOOLS = 10_000;
const MAX_PAGES = 1_000;

/**
 * The SDK's own request timeouts are backstops set past ours, so ours always fire first: an
 * `McpError` that reaches us on a live session is then always the upstream's own answer.
 */
const SDK_TIMEOUT_SLACK_MS = 5_000;

// The SDK validates each answer against a schema; we pass a permissive one and validate ourselves,
// so a malformed answer is an UPSTREAM_ERROR of ours, not an SDK exception of unknown shape.
const AnyResult = z.looseObject({});

export interface UpstreamConnectionOptions {
  /** Where injected env and header values come from. */
  readonly resolveSecret: ResolveSecret;
  readonly clock?: Clock;
  /** Spacing of restarts after failures (default 0.5 s doubling to 30 s). */
  readonly backoff?: BackoffOptions;
  /** Between SIGTERM and SIGKILL when a child is stopped (default 2 s). */
  readonly killGraceMs?: number;
  /** Where `inheritEnv` reads from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Bytes of each stdio child's stderr kept for diagnostics (default 64 KiB). */
  readonly stderrBytes?: number;
  readonly logger?: { warn(obj: object, msg: string): void };
  /**
   * Builds the sandboxes of stdio upstreams and runs the built-in ones. Without it a sandboxed
   * upstream does not start (SANDBOX_UNAVAILABLE): nothing falls back to running unsandboxed.
   */
  readonly sandbox?: UpstreamSandboxing;
  /** Told of every successful start (for the `upstream.start` audit entry). */
  readonly onStart?: (started: UpstreamStarted) => void;
  /** Told of every failed start, with its error (for the `upstream.fail` audit entry). */
  readonly onStartFailed?: (upstream: string, err: WardenError) => void;
}

/** One start of an upstream, as the audit log records it. */
export interface UpstreamStarted {
  readonly upstream: string;
  readonly transport: McpUpstream['transport'];
  /** False for HTTP upstreams and for a stdio upstream whose config says `sandbox: false`. */
  readonly sandboxed: boolean;
  /** The running sandbox of a stdio upstream (a built-in one builds one per command). */
  readonly sandbox: SandboxSummary | null;
  readonly pid?: number;
  readonly restarts: number;
}

/** Per call: an abort signal and a time bound (default: the upstream's `callTimeoutMs`). */
export interface CallOptions {
  /** Aborting rejects the call with the signal's reason and cancels it upstream. */
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** MCP `_meta` of the request: for built-in upstreams only (in-process, never sent to a server). */
  readonly meta?: Readonly<Record<string, string>>;
  /**
   * Asks the upstream for progress (the SDK sends a progress token of its own) and is told each
   * `notifications/progress` it sends for this call. The call's time bound still holds.
   */
  readonly onProgress?: ProgressListener;
}

export type UpstreamState = 'idle' | 'starting' | 'ready' | 'backoff' | 'closed';

/** For listings and health checks: no secrets, no upstream text. */
export interface UpstreamStatus {
  readonly name: string;
  readonly transport: McpUpstream['transport'];
  /** Whether it runs in a sandbox (stdio and built-in; false only when its config turns it off). */
  readonly sandboxed: boolean;
  readonly state: UpstreamState;
  /** The stdio child's pid while one runs. */
  readonly pid?: number;
  /** How many times the upstream was started again after its first start. */
  readonly restarts: number;
  /** Code of the last error a start or a call hit (not cleared by success: it is history). */
  readonly lastError?: ErrorCode;
  /** When the running session finished its handshake (ms since the epoch). */
  readonly startedAt?: number;
  /** The running sandbox: its user, limits and how they are enforced. */
  readonly sandbox?: SandboxSummary;
}

/** An upstream's tools, validated, with what validation skipped or cut. */
export interface ToolListing {
  readonly tools: UpstreamTool[];
  readonly issues: ToolIssue[];
}

/**
 * The connection to one upstream MCP server, over stdio (a child process) or Streamable HTTP.
 *
 * - Lazy: nothing starts before the first `listTools` or `callTool`; concurrent first callers
 *   share one start, bounded by `startTimeoutMs` (the child is killed when it runs over).
 * - Never hangs on a dead upstream: when the child exits or the transport breaks, calls in
 *   flight fail UPSTREAM_UNAVAILABLE at once; the next call starts a new session. Repeated
 *   failures open a circuit ({@link RestartBackoff}) in which calls fail fast with
 *   `details.retryAfterMs`.
 * - Every call is time-bounded (UPSTREAM_TIMEOUT, cancelled upstream) and size-bounded
 *   (UPSTREAM_RESPONSE_TOO_LARGE); answers are validated before they are returned.
 * - Secrets are resolved at each start and exist only in the child's environment or the request
 *   headers; errors and logs carry names and codes, never values or upstream text.
 */
export class UpstreamConnection {
  readonly name: string;
  private readonly clock: Clock;
  private readonly backoff: RestartBackoff;
  private readonly stderr: StderrRing;
  private readonly listeners = new Set<() => void>();
  private readonly teardowns = new Set<Promise<void>>();
  private session: UpstreamSession | undefined;
  private starting: Promise<UpstreamSession> | undefined;
  private startAbort: AbortController | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private starts = 0;
  private lastError: ErrorCode | undefined;
  private injected: readonly string[] = [];
  /** Every value ever injected: stderr kept from an earlier start may still show a rotated one. */
  private readonly redactable = new Set<string>();

  constructor(
    readonly config: McpUpstream,
    private readonly opts: UpstreamConnectionOptions,
  ) {
    this.name = config.name;
    this.clock = opts.clock ?? systemClock;
    this.backoff = new RestartBackoff(this.clock, opts.backoff ?? DEFAULT_BACKOFF);
    this.stderr = new StderrRing(opts.stderrBytes);
  }

  /** Every tool of the upstream, following `nextCursor` up to {@link MAX_TOOLS}. */
  async listTools(opts: CallOptions = {}): Promise<ToolListing> {
    return this.exchange(opts, async (session, signal, timeout) => {
      const tools: UpstreamTool[] = [];
      const issues: ToolIssue[] = [];
      const names = new Set<string>();
      const cursors = new Set<string>();
      let cursor: string | undefined;
      let index = 0;
      for (let page = 0; page < MAX_PAGES; page++) {
        const raw = await session.client!.request(
          { method: 'tools/list', params: cursor === undefined ? {} : { cursor } },
          AnyResult,
          { signal, timeout },
        );
        if (!Array.isArray(raw.tools)) throw this.error('UPSTREAM_ERROR', { reason: 'invalid-result' });
        for (const item of raw.tools as unknown[]) {
          if (index >= MAX_TOOLS) {
            issues.push({ index, action: 'skipped', reason: 'too-many-tools' });
            return { tools, issues };
          }
          const checked = validateToolDefinition(item, index++);
          if (checked.kind === 'skipped') {
            issues.push(checked.issue);
          } else if (names.has(checked.tool.name)) {
            issues.push({ index: index - 1, name: checked.tool.name, action: 'skipped', reason: 'duplicate-name' });
          } else {
            names.add(checked.tool.name);
            tools.push(checked.tool);
            issues.push(...checked.issues);
          }
        }
        const next = raw.nextCursor;
        if (typeof next !== 'string' || next === '') return { tools, issues };
        // A cursor seen before would loop forever.
        if (cursors.has(next)) {
          issues.push({ index, action: 'skipped', reason: 'cursor-loop' });
          return { tools, issues };
        }
        cursors.add(next);
        cursor = next;
      }
      issues.push({ index, action: 'skipped', reason: 'too-many-pages' });
      return { tools, issues };
    });
  }

  /**
   * Calls `name` (the upstream's own tool name) and returns its validated `CallToolResult`
   * as the upstream sent it, `isError` results included: those are answers, not failures.
   */
  async callTool(name: string, args: Readonly<Record<string, unknown>> = {}, opts: CallOptions = {}): Promise<CallToolResult> {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('tool name must be a non-empty string');
    return this.exchange(opts, async (session, signal, timeout) => {
      // Progress is asked for with a token of the session's own and taken off the transport
      // (UpstreamSession.captureProgress), not through the SDK's onprogress.
      const onProgress = opts.onProgress;
      const token = onProgress ? session.progressToken() : undefined;
      const builtinMeta = opts.meta && this.config.transport === 'builtin' ? opts.meta : undefined;
      const params = { name, arguments: { ...args }, ...(builtinMeta || token ? { _meta: { ...builtinMeta, ...(token ? { progressToken: token } : {}) } } : {}) };
      if (token) session.progress.set(token, onProgress!);
      let raw: unknown;
      try {
        raw = await session.client!.request({ method: 'tools/call', params }, AnyResult, { signal, timeout });
      } finally {
        if (token) session.progress.delete(token);
      }
      const bytes = Buffer.byteLength(JSON.stringify(raw));
      if (bytes > this.config.maxResultBytes) {
        throw this.error('UPSTREAM_RESPONSE_TOO_LARGE', { limitBytes: this.config.maxResultBytes, bytes });
      }
      const parsed = CallToolResultSchema.safeParse(raw);
      if (!parsed.success) throw this.error('UPSTREAM_ERROR', { reason: 'invalid-result' });
      return parsed.data;
    });
  }

  /**
   * Subscribes to changes of the upstream's tool list: its `notifications/tools/list_changed`,
   * and every restart (a new process may offer other tools). Returns the unsubscribe function.
   */
  onToolsChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The secret values injected at the latest start, so echoes of them can be redacted. */
  injectedValues(): string[] {
    return [...this.injected];
  }

  /** The last bytes the stdio child wrote to stderr, injected values redacted. For operators only. */
  stderrTail(): string {
    let text = this.stderr.text();
    // Longest first, so a value containing another is not left half-redacted.
    for (const value of [...this.redactable].sort((a, b) => b.length - a.length)) text = text.split(value).join('[REDACTED]');
    return text;
  }

  status(): UpstreamStatus {
    const live = this.session && !this.session.death ? this.session : undefined;
    const pid = live?.pid();
    return {
      name: this.name,
      transport: this.config.transport,
      sandboxed: isSandboxed(this.config),
      state: this.state(),
      ...(pid === undefined ? {} : { pid }),
      restarts: Math.max(0, this.starts - 1),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(live?.startedAt === undefined ? {} : { startedAt: live.startedAt }),
      ...(live?.sandbox ? { sandbox: live.sandbox.summary } : {}),
    };
  }

  /**
   * Stops the upstream: calls in flight fail UPSTREAM_UNAVAILABLE, the child gets SIGTERM and,
   * after the grace period, SIGKILL. Resolves once it is gone. Idempotent; later calls fail.
   */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private state(): UpstreamState {
    if (this.closed) return 'closed';
    if (this.starting) return 'starting';
    if (this.session && !this.session.death) return 'ready';
    return this.backoff.remainingMs() > 0 ? 'backoff' : 'idle';
  }

  private async shutdown(): Promise<void> {
    const cause = this.error('UPSTREAM_UNAVAILABLE', { reason: 'closed' });
    this.startAbort?.abort(cause);
    if (this.session) this.end(this.session, cause);
    await this.starting?.catch(() => {});
    await Promise.allSettled([...this.teardowns]);
    this.listeners.clear();
  }

  /** One request on a ready session, bounded in time, abortable, failing fast if the session dies. */
  private async exchange<T>(
    opts: CallOptions,
    run: (session: UpstreamSession, signal: AbortSignal, sdkTimeoutMs: number) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.config.callTimeoutMs;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new TypeError('timeoutMs must be a positive number');
    opts.signal?.throwIfAborted();
    const session = await untilAborted(this.ready(), opts.signal);

    const deadline = new AbortController();
    // Made when it happens: an error (and its stack) per call would cost more than the call's timer.
    const timer = setTimeout(() => deadline.abort(this.error('UPSTREAM_TIMEOUT', { timeoutMs })), timeoutMs);
    const onAbort = (): void => deadline.abort(opts.signal!.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await session.guard(run(session, deadline.signal, timeoutMs + SDK_TIMEOUT_SLACK_MS));
      this.backoff.succeeded();
      return result;
    } catch (err) {
      const failure = this.classify(err, session, deadline.signal);
      if (failure instanceof WardenError && !this.closed) this.lastError = failure.code;
      throw failure;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** What a failed request means for the caller and for the session. */
  private classify(err: unknown, session: UpstreamSession, signal: AbortSignal): unknown {
    // The session died: that is the cause, whatever the SDK threw on its way down.
    if (session.death) return session.death;
    // Our deadline's UPSTREAM_TIMEOUT, or the caller's own reason.
    if (signal.aborted) return signal.reason;
    if (err instanceof WardenError) {
      if (err.code === 'UPSTREAM_RESPONSE_TOO_LARGE' || err.code === 'UPSTREAM_ERROR') this.backoff.succeeded();
      return err;
    }
    if (err instanceof McpError) {
      // The session is alive (the SDK's own "connection closed" comes after onclose killed it,
      // and its own timeout after ours), so this is the upstream's JSON-RPC error answer. Its
      // message is upstream text and stays behind.
      this.backoff.succeeded();
      return this.error('UPSTREAM_ERROR', { rpcCode: err.code });
    }
    // Anything else is the transport failing under the request (fetch failed, session expired,
    // stream not writable): this session cannot be trusted with the next call.
    this.end(session, this.error('UPSTREAM_UNAVAILABLE', { reason: 'transport-error', ...httpStatus(err) }));
    return session.death;
  }

  /** The running session, starting one if there is none and the circuit allows it. */
  private ready(): Promise<UpstreamSession> {
    if (this.closed) return Promise.reject(this.error('UPSTREAM_UNAVAILABLE', { reason: 'closed' }));
    if (this.session && !this.session.death) return Promise.resolve(this.session);
    if (this.starting) return this.starting;
    const wait = this.backoff.remainingMs();
    // The code that opened the circuit goes along: SANDBOX_UNAVAILABLE says more than "backoff".
    if (wait > 0) return Promise.reject(this.error('UPSTREAM_UNAVAILABLE', { reason: 'backoff', retryAfterMs: wait, ...(this.lastError ? { lastError: this.lastError } : {}) }));
    const starting = this.start().finally(() => {
      if (this.starting === starting) this.starting = undefined;
    });
    this.starting = starting;
    return starting;
  }

  private async start(): Promise<UpstreamSession> {
    const restart = this.starts++ > 0;
    const abort = new AbortController();
    this.startAbort = abort;
    const timer = setTimeout(() => abort.abort(this.error('UPSTREAM_UNAVAILABLE', { reason: 'start-timeout' })), this.config.startTimeoutMs);
    const session = new UpstreamSession();
    try {
      const secrets = await untilAborted(resolveSecrets(this.config, this.opts.resolveSecret), abort.signal);
      this.injected = [...secrets.values()].filter((v) => v.length > 0);
      for (const value of this.injected) this.redactable.add(value);
      const cfg = this.config;
      if (cfg.transport !== 'http' && (cfg.transport === 'builtin' || cfg.sandbox !== false)) {
        if (!this.opts.sandbox) throw this.error('SANDBOX_UNAVAILABLE', { missing: 'sandbox-host' });
        if (cfg.transport === 'stdio') {
          // Not raced against the start timeout: a sandbox prepared after it fired must still be released (by end()).
          session.sandbox = await this.opts.sandbox.prepare(cfg, definedEnvironment(childEnvironment(cfg, secrets, this.opts.env ?? process.env)));
          abort.signal.throwIfAborted();
        }
      }
      this.open(session, secrets);
      await untilAborted(
        session.client!.connect(session.transport!, { timeout: this.config.startTimeoutMs + SDK_TIMEOUT_SLACK_MS }),
        abort.signal,
      );
      // Closed, or dead already, while the handshake's answer was on its way.
      if (this.closed) throw this.error('UPSTREAM_UNAVAILABLE', { reason: 'closed' });
      if (session.death) throw session.death;
      session.captureProgress();
      session.startedAt = this.clock.now();
      this.session = session;
      const pid = session.pid();
      this.opts.onStart?.({ upstream: this.name, transport: cfg.transport, sandboxed: isSandboxed(cfg), sandbox: session.sandbox?.summary ?? null, ...(pid === undefined ? {} : { pid }), restarts: Math.max(0, this.starts - 1) });
    } catch (err) {
      const failure =
        err instanceof WardenError
          ? err
          : this.error('UPSTREAM_UNAVAILABLE', { reason: isSpawnError(err) ? 'spawn-failed' : 'start-failed', ...httpStatus(err) });
      if (!this.closed) {
        this.lastError = failure.code;
        this.backoff.failed();
        this.opts.logger?.warn({ upstream: this.name, code: failure.code, reason: failure.details?.reason ?? null }, 'upstream did not start');
        this.opts.onStartFailed?.(this.name, failure);
      }
      this.end(session, failure);
      throw failure;
    } finally {
      clearTimeout(timer);
      if (this.startAbort === abort) this.startAbort = undefined;
    }
    if (restart) this.emitToolsChanged();
    return session;
  }

  /** Builds the client and transport of a session and wires their events to it. No I/O yet. */
  private open(session: UpstreamSession, secrets: ReadonlyMap<string, string>): void {
    const cfg = this.config;
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    if (cfg.transport === 'builtin') {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      const env = definedEnvironment(childEnvironment(cfg, secrets, {}));
      session.builtin = this.opts.sandbox!.builtin(cfg, env);
      // In-memory messages wait in a queue until the server side is started.
      void session.builtin.connect(serverSide).catch(() => this.end(session, this.error('UPSTREAM_UNAVAILABLE', { reason: 'start-failed' })));
      session.transport = clientSide;
    } else if (cfg.transport === 'stdio') {
      const transport = stdioTransport(cfg, secrets, this.opts.env ?? process.env, session.sandbox);
      // Drained into the ring whatever happens: a full pipe would block the child.
      transport.stderr?.on('data', (chunk: Buffer) => this.stderr.write(chunk));
      transport.stderr?.on('error', () => {});
      session.transport = transport;
    } else {
      session.transport = httpTransport(cfg, secrets, {
        onOversize: () => this.end(session, this.error('UPSTREAM_RESPONSE_TOO_LARGE', { limitBytes: cfg.maxResultBytes })),
        onBroken: () => this.end(session, this.error('UPSTREAM_UNAVAILABLE', { reason: 'transport-error' })),
      });
    }
    client.onclose = () => {
      // A sandbox killed at a limit says so: the call that died with it learns why.
      const limit = session.sandbox?.limitHit();
      this.end(session, this.error('UPSTREAM_UNAVAILABLE', limit ? { reason: 'sandbox-limit', limit } : { reason: cfg.transport === 'http' ? 'transport-closed' : 'exited' }));
    };
    client.onerror = (err) => {
      // The SDK's stdio reader drops its buffer and closes when one line outgrows maxBufferSize.
      // Its message is the only signal; the test of oversized stdio answers guards the wording.
      if (err instanceof Error && err.message.startsWith('ReadBuffer exceeded maximum size')) {
        this.end(session, this.error('UPSTREAM_RESPONSE_TOO_LARGE', { limitBytes: cfg.maxResultBytes }));
      }
      // Other transport errors (a garbage line on stdout, a dropped notification stream) are
      // survivable; the SDK skips the message, and requests fail through their own paths.
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      if (this.session === session && !session.death) this.emitToolsChanged();
    });
    session.client = client;
  }

  /**
   * Ends a session with `cause`: calls guarded by it fail with it at once, and the child
   * and transport are torn down in the background (awaited by `close`).
   */
  private end(session: UpstreamSession, cause: WardenError): void {
    if (!session.die(cause)) return;
    if (this.session === session) {
      this.session = undefined;
      if (!this.closed) {
        this.lastError = cause.code;
        this.backoff.failed();
        this.opts.logger?.warn({ upstream: this.name, code: cause.code, reason: cause.details?.reason ?? null }, 'upstream session ended');
      }
    }
    const teardown = this.teardown(session, session.pid()).finally(() => this.teardowns.delete(teardown));
    this.teardowns.add(teardown);
  }

  private async teardown(session: UpstreamSession, pid: number | undefined): Promise<void> {
    const grace = this.opts.killGraceMs ?? 2_000;
    const transport = session.transport;
    if (this.closed && session.startedAt !== undefined && transport instanceof StreamableHTTPClientTransport) {
      // A polite DELETE frees the server's session state (Streamable HTTP "Session Management"),
      // but a slow server must not hold up close().
      await Promise.race([transport.terminateSession().catch(() => {}), sleep(Math.min(grace, 1_000), undefined, { ref: false })]);
    }
    await Promise.allSettled([
      // Closes stdin (stdio) or aborts the requests (HTTP); the SDK waits for the child itself.
      session.client?.close(),
      pid === undefined ? undefined : terminateChild(pid, grace),
      session.builtin?.close(),
    ]);
    await session.sandbox?.release();
  }


  private emitToolsChanged(): void {
    for (const listener of [...this.listeners]) {
      try {
        const returned: unknown = listener();
        if (returned instanceof Promise) returned.catch(() => {});
      } catch {
        // A listener's failure is its own; the others still hear of the change.
      }
    }
  }

  private error(code: ErrorCode, details: ErrorDetails = {}): WardenError {
    return new WardenError(code, { upstream: this.name, ...details });
  }
}

/** The HTTP status an HTTP upstream refused a request with (e.g. 401: check its secret). Never its body. */
function httpStatus(err: unknown): { httpStatus?: number } {
  return err instanceof StreamableHTTPError && typeof err.code === 'number' && err.code >= 100 && err.code <= 599 ? { httpStatus: err.code } : {};
}

/** Stdio servers are sandboxed unless their config says `sandbox: false`; built-in ones always are. */
export function isSandboxed(config: McpUpstream): boolean {
  return config.transport === 'builtin' || (config.transport === 'stdio' && config.sandbox !== false);
}

function isSpawnError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && (err as { syscall?: string }).syscall?.startsWith('spawn') === true;
}

