import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Agent, Task } from '../domain/index.js';
import { WardenError } from '../errors/warden-error.js';
import { matches } from '../identity/capabilities.js';
import { refuseCall, runCall, type PipelineDeps, type ResultInspector } from '../pipeline/call-pipeline.js';
import type { VerifiedCredential } from '../pipeline/verified-credential.js';
import type { GatewayTool, ListedTool, ToolCatalog } from './catalog.js';
import { holdSseHeaders } from './hold-sse-headers.js';
import { cancelledIds, endSseAnswer, fastToolCall, openSseAnswer, writeSseEvent, type FastToolCall } from './fast-tool-call.js';
import { progressRelay, progressTokenOf, type ProgressListener } from './progress-relay.js';

/** The upstream MCP servers as the gateway uses them. */
export interface GatewayUpstreams {
  names(): readonly string[];
  listTools(server: string): Promise<ListedTool[]>;
  /** `cred` is the call's: a sandbox's egress during the call is decided under it. */
  callTool(server: string, tool: string, args: Record<string, unknown>, opts: { signal: AbortSignal; cred?: VerifiedCredential; onProgress?: ProgressListener }): Promise<CallToolResult>;
  /** The secret values injected into this upstream now: their echoes are redacted. */
  injectedValues(server: string): readonly string[];
  onToolsChanged(listener: (server: string) => void): void;
}

export interface GatewayLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** An MCP session, as the HTTP route holds it between lookup and dispatch. */
export type McpSession = { readonly __mcpSession: true };

interface Session {
  /** Set once the transport has answered `initialize` (the session is in the map from then on). */
  id: string;
  readonly transport: StreamableHTTPServerTransport;
  readonly server: Server;
  readonly agentId: string;
  readonly taskId: string;
  /** Thumbprint of the agent key the session was opened with. */
  readonly jkt: string;
  lastSeen: number;
  /** `tools/call`s the gateway answers itself (fast-tool-call.ts), by JSON-RPC id: cancellable. */
  readonly calls: Map<string | number, AbortController>;
}

export interface GatewayOptions {
  readonly name: string;
  readonly version: string;
  /** Sessions idle this long are closed. */
  readonly idleSessionMs?: number;
  readonly maxSessionsPerTask?: number;
  readonly maxSessions?: number;
  /**
   * Whether the task, agent or key a session belongs to has ended or been revoked (on any
   * replica): such sessions are closed by the next sweep, not left to idle out.
   */
  readonly ended?: (session: { readonly task: string; readonly agent: string; readonly jkt: string }) => boolean;
  /** How often sessions are swept. */
  readonly sweepMs?: number;
}

/** Does any scope pattern reach tools of `server`? (`**` reaches every server.) */
export function serverInScope(scope: readonly string[], server: string): boolean {
  return scope.some((p) => {
    const head = p.includes('.') ? p.slice(0, p.indexOf('.')) : p;
    return head.includes('**') || matches(head, server);
  });
}

const credOf = (extra: { authInfo?: { extra?: Record<string, unknown> } }): VerifiedCredential => {
  const cred = extra.authInfo?.extra?.cred;
  if (!cred) throw new TypeError('an MCP request reached a handler without its credential');
  return cred as VerifiedCredential;
};

/** A Warden error as it crosses the wire: the registry's JSON-RPC code, fixed message, code and details. */
export function toMcpError(err: unknown, log: GatewayLogger): McpError {
  if (err instanceof McpError) return err;
  const we = err instanceof WardenError ? err : new WardenError('INTERNAL', undefined, { cause: err });
  if (we.code === 'INTERNAL') log.error({ err: we.cause ?? we, code: we.code }, 'MCP request failed');
  return new McpError(we.spec.jsonrpc, we.spec.message, { code: we.code, ...(we.details ? { details: we.details } : {}) });
}

/**
 * The MCP front door (`/mcp`, Streamable HTTP, the official SDK on both sides). Every HTTP
 * request carries the agent's DPoP-bound task token and a fresh proof; a session is bound to
 * the agent and task that opened it, and a request with another task's token finds no session
 * (MCP_SESSION_NOT_FOUND, the same answer as an unknown id: session ids are not an oracle).
 *
 * `tools/list` shows a task the upstream tools its scope reaches and the policies do not deny
 * outright; `tools/call` runs the whole pipeline (`runCall`). Upstreams start when a task first
 * needs them.
 */
export class McpGateway {
  private readonly sessions = new Map<string, Session>();
  private readonly listing = new Map<string, Promise<void>>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly upstreams: GatewayUpstreams,
    private readonly catalog: ToolCatalog,
    private readonly pipeline: PipelineDeps,
    private readonly inspectResult: ResultInspector,
    private readonly log: GatewayLogger,
    private readonly opts: GatewayOptions,
  ) {
    upstreams.onToolsChanged((server) => {
      void this.relist(server)
        .then(() => this.notifyToolsChanged())
        .catch((err) => this.log.warn({ server, code: err instanceof WardenError ? err.code : 'INTERNAL' }, 'upstream re-list failed'));
    });
    this.sweeper = setInterval(() => void this.sweep(), opts.sweepMs ?? 10_000);
    this.sweeper.unref();
  }

  /**
   * The session one HTTP request to `/mcp` belongs to (its credential verified by the caller):
   * the open session named by `Mcp-Session-Id` and bound to this agent and task, or a new one
   * for an `initialize`. Throws before anything is written, so errors answer normally.
   */
  async session(cred: VerifiedCredential, req: IncomingMessage, body: unknown): Promise<McpSession> {
    if (this.closed) throw new WardenError('MCP_SESSION_NOT_FOUND');
    const header = req.headers['mcp-session-id'];
    let session: Session | undefined;
    if (typeof header === 'string') {
      session = this.sessions.get(header);
      if (!session || session.taskId !== cred.taskId || session.agentId !== cred.agentId) throw new WardenError('MCP_SESSION_NOT_FOUND');
    } else if (req.method === 'POST' && isInitialize(body)) {
      session = await this.open(cred);
    } else {
      throw new WardenError('INVALID_INPUT', { issues: ['Mcp-Session-Id: required after initialize'] });
    }
    session.lastSeen = Date.now();
    return session as unknown as McpSession;
  }

  /** Hands the raw request to the session's SDK transport, which writes the response. */
  async dispatch(session: McpSession, cred: VerifiedCredential, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const raw = req as IncomingMessage & { auth?: unknown };
    // The SDK hands `auth` to request handlers: that is how they learn this request's
    // credential (a refreshed token is a new credential in the same session). No token in it.
    raw.auth = { token: '', clientId: cred.agentId, scopes: [...cred.scope], expiresAt: cred.exp, extra: { cred } };
    // A POST's answer is one quick SSE stream; a GET's is the long-lived notification stream.
    if (req.method === 'POST') holdSseHeaders(res);
    const s = session as unknown as Session;
    if (req.method === 'POST') {
      const call = fastToolCall(req.headers, body);
      if (call && !s.calls.has(call.id)) return this.answerToolCall(s, cred, call, res);
      // A cancellation of a call answered here is ours to act on (the SDK never saw the call).
      for (const id of cancelledIds(body)) s.calls.get(id)?.abort(new WardenError('CALL_CANCELLED'));
    }
    await s.transport.handleRequest(raw as never, res, body);
  }

  /**
   * A `tools/call` answered without the SDK's transport, exactly as it would answer: the same
   * SSE answer, the same JSON-RPC result or error. Cancelled by `notifications/cancelled` for
   * its id, and by the session closing (its task ended or was revoked).
   */
  private async answerToolCall(s: Session, cred: VerifiedCredential, call: FastToolCall, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    s.calls.set(call.id, controller);
    openSseAnswer(res, s.id);
    // Progress goes out on this answer's stream, before the answer, as the SDK would send it.
    const relay = call.progressToken === undefined ? undefined : progressRelay(call.progressToken, (params) => writeSseEvent(res, { jsonrpc: '2.0', method: 'notifications/progress', params }));
    try {
      const result = await this.callTool(cred, call.name, call.args, controller.signal, relay?.listener);
      relay?.stop();
      endSseAnswer(res, call.id, { result });
    } catch (err) {
      relay?.stop();
      // A cancelled request gets no answer (MCP spec); its stream just ends.
      if (controller.signal.aborted) res.end();
      else endSseAnswer(res, call.id, { error: toMcpError(err, this.log) });
    } finally {
      s.calls.delete(call.id);
    }
  }

  private async open(cred: VerifiedCredential): Promise<Session> {
    const ofTask = [...this.sessions.values()].filter((s) => s.taskId === cred.taskId);
    const maxPerTask = this.opts.maxSessionsPerTask ?? 16;
    // A task that opens more sessions than it may loses its oldest: a client that restarts
    // without ending its session must not lock itself out.
    if (ofTask.length >= maxPerTask) await this.closeSession(ofTask.sort((a, b) => a.lastSeen - b.lastSeen)[0]!.id);
    if (this.sessions.size >= (this.opts.maxSessions ?? 10_000)) throw new WardenError('RATE_LIMITED', { retryAfterMs: 1000 });

    const server = new Server({ name: this.opts.name, version: this.opts.version }, { capabilities: { tools: { listChanged: true } } });
    server.setRequestHandler(ListToolsRequestSchema, async (_req, extra) => {
      try {
        return { tools: await this.listTools(credOf(extra)) };
      } catch (err) {
        throw toMcpError(err, this.log);
      }
    });
    server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
      const token = progressTokenOf(req.params._meta);
      const relay = token === undefined ? undefined : progressRelay(token, (params) => void extra.sendNotification({ method: 'notifications/progress', params }).catch(() => undefined));
      try {
        return await this.callTool(credOf(extra), req.params.name, req.params.arguments ?? {}, asCancellation(extra.signal), relay?.listener);
      } catch (err) {
        throw toMcpError(err, this.log);
      } finally {
        relay?.stop();
      }
    });
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // Answers stream as SSE, not as one JSON body: in JSON mode the SDK (1.x, up to at least
      // 1.32) keeps one entry per request in a session's stream map for the session's whole
      // life (modelcontextprotocol/typescript-sdk#2559) — a leak the soak bench found.
      enableJsonResponse: false,
      onsessioninitialized: (id) => {
        session.id = id;
        this.sessions.set(id, session);
      },
      onsessionclosed: (id) => {
        this.sessions.delete(id);
      },
    });
    const session: Session = { id: '', transport, server, agentId: cred.agentId, taskId: cred.taskId, jkt: cred.jkt, lastSeen: Date.now(), calls: new Map() };
    transport.onclose = () => {
      if (session.id) this.sessions.delete(session.id);
    };
    await server.connect(transport);
    return session;
  }

  /**
   * Lists (starting them if needed) and reconciles the given upstreams. Concurrent callers share
   * one listing per upstream, and wait for a re-listing under way: a call never runs against a
   * catalog (and policy schema) that is still being updated.
   */
  ensureListed(servers: readonly string[]): Promise<void> {
    return Promise.all(servers.map((server) => this.listing.get(server) ?? this.relist(server))).then(() => undefined);
  }

  /** Lists an upstream again, after any listing of it under way (one at a time per upstream). */
  private relist(server: string): Promise<void> {
    const previous = this.listing.get(server) ?? Promise.resolve();
    const p = previous
      .catch(() => undefined)
      .then(async () => {
        const tools = await this.upstreams.listTools(server);
        const { skipped } = await this.catalog.reconcile(server, tools);
        if (skipped.length > 0) this.log.warn({ server, skipped: skipped.slice(0, 20) }, 'upstream tools with names Warden cannot offer were skipped');
      });
    this.listing.set(server, p);
    // A failed listing is retried by the next caller, not cached.
    p.catch(() => {
      if (this.listing.get(server) === p) this.listing.delete(server);
    });
    return p;
  }

  /** The tools a task sees: reached by its scope, offered by the catalog, not denied outright. */
  async listTools(cred: VerifiedCredential): Promise<Tool[]> {
    const servers = this.upstreams.names().filter((s) => serverInScope(cred.scope, s));
    // One upstream that cannot start must not hide the others' tools.
    await Promise.all(
      servers.map((s) =>
        this.ensureListed([s]).catch((err) => this.log.warn({ server: s, code: err instanceof WardenError ? err.code : 'INTERNAL' }, 'upstream unavailable for tools/list')),
      ),
    );
    const { agent, task } = await this.pipeline.load(cred);
    const now = this.pipeline.clock.now();
    return this.catalog
      .offered()
      .filter((t) => servers.includes(t.server) && cred.scope.some((p) => matches(p, t.qualified)) && this.visible(t, agent, task, now))
      .map(toMcpTool);
  }

  /**
   * Shown unless the policies deny it whatever the arguments: evaluated without arguments, a
   * tool no permit reaches (or a forbid catches) is hidden; a decision that needs the
   * arguments (an evaluation error on `context.args…`) shows it, and the call decides.
   */
  private visible(t: GatewayTool, agent: Agent, task: Task, now: number): boolean {
    const d = this.pipeline.policy.engine.decideCall({
      agent,
      task: { id: task.id, purpose: task.purpose, scope: task.scope, createdAt: task.createdAt, ticket: task.ticket },
      person: task.onBehalfOf,
      tool: t.qualified,
      args: {},
      nowMs: now,
    });
    return d.kind !== 'deny';
  }

  /** `onProgress`, when the agent asked for progress, is told what the upstream reports during the call. */
  async callTool(cred: VerifiedCredential, name: string, args: Record<string, unknown>, signal: AbortSignal, onProgress?: ProgressListener): Promise<CallToolResult> {
    const dot = name.indexOf('.');
    const server = dot > 0 ? name.slice(0, dot) : '';
    const tool = name.slice(dot + 1);
    const refuse = (err: WardenError): Promise<never> => refuseCall(this.pipeline.events, cred, { via: 'mcp', tool: name.slice(0, 200) }, err);
    // Scope first: a task learns nothing about tools beyond its scope, not even that they exist.
    if (!cred.scope.some((p) => matches(p, name))) await refuse(new WardenError('SCOPE_DENIED', { tool: name.slice(0, 200) }));
    if (!this.upstreams.names().includes(server)) await refuse(new WardenError('TOOL_NOT_FOUND', { tool: name.slice(0, 200) }));
    await this.ensureListed([server]);
    let resolved: GatewayTool;
    try {
      resolved = this.catalog.resolve(name);
    } catch (err) {
      if (err instanceof WardenError) await refuse(err);
      throw err;
    }
    const bytesOut = Buffer.byteLength(JSON.stringify(args));
    // The result as JSON, made once: the measure reads the result as received, the digest the
    // result as inspected, which is the same object unless something was redacted.
    let last: { of: CallToolResult; text: string } | undefined;
    const json = (r: CallToolResult): string => (last?.of === r ? last.text : (last = { of: r, text: JSON.stringify(r) }).text);
    return runCall(this.pipeline, cred, { via: 'mcp', tool: name, args, bytesOut, labels: resolved.labels, secretArgs: resolved.secretArgs }, {
      forward: (a) => this.upstreams.callTool(server, tool, a, { signal, cred, ...(onProgress ? { onProgress } : {}) }),
      measure: (r) => Buffer.byteLength(json(r)),
      digest: (r) => createHash('sha256').update(json(r)).digest('base64url'),
      inspect: (r) => this.inspectResult(r, this.upstreams.injectedValues(server)),
    }, signal);
  }

  /** Tells every open session that the tool list changed (MCP `notifications/tools/list_changed`). */
  private async notifyToolsChanged(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.server.sendToolListChanged().catch(() => undefined)));
  }

  /**
   * Closes the sessions nobody can use any more: idle too long, or of a task, agent or key that
   * ended or was revoked. Each holds an SDK server and transport (tens of KB): kept until they
   * idle out, the sessions of finished tasks would pile up to `maxSessions` and lock new ones out.
   */
  async sweep(): Promise<void> {
    const cutoff = Date.now() - (this.opts.idleSessionMs ?? 15 * 60_000);
    const ended = this.opts.ended;
    await this.closeWhere((s) => s.lastSeen < cutoff || ended?.({ task: s.taskId, agent: s.agentId, jkt: s.jkt }) === true);
  }

  /** How many MCP sessions of this task are open on this replica. */
  sessionsOf(taskId: string): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.taskId === taskId) n++;
    return n;
  }

  /** Closes every session of a task at once: the task just ended on this replica. */
  async closeTask(taskId: string): Promise<void> {
    await this.closeWhere((s) => s.taskId === taskId);
  }

  private async closeWhere(which: (s: Session) => boolean): Promise<void> {
    for (const s of [...this.sessions.values()]) if (which(s)) await this.closeSession(s.id);
  }

  private async closeSession(id: string): Promise<void> {
    const s = this.sessions.get(id);
    this.sessions.delete(id);
    for (const c of s?.calls.values() ?? []) c.abort(new WardenError('CALL_CANCELLED'));
    await s?.transport.close().catch(() => undefined);
    await s?.server.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.closeSession(id)));
  }
}

/**
 * The SDK aborts a handler's signal with the client's free-text reason (`notifications/cancelled`)
 * or nothing: a signal that aborts with CALL_CANCELLED instead, so the outcome entry says what
 * happened rather than INTERNAL.
 */
function asCancellation(signal: AbortSignal): AbortSignal {
  const own = new AbortController();
  if (signal.aborted) own.abort(new WardenError('CALL_CANCELLED'));
  else signal.addEventListener('abort', () => own.abort(new WardenError('CALL_CANCELLED')), { once: true });
  return own.signal;
}

function isInitialize(body: unknown): boolean {
  const one = (m: unknown) => typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'initialize';
  return Array.isArray(body) ? body.some(one) : one(body);
}

function toMcpTool(t: GatewayTool): Tool {
  const d = t.definition;
  return {
    name: t.qualified,
    ...(d.title !== undefined ? { title: d.title } : {}),
    ...(d.description !== undefined ? { description: d.description } : {}),
    inputSchema: d.inputSchema as Tool['inputSchema'],
    ...(d.outputSchema !== undefined ? { outputSchema: d.outputSchema as Tool['outputSchema'] } : {}),
    ...(d.annotations !== undefined ? { annotations: d.annotations as Tool['annotations'] } : {}),
  };
}
