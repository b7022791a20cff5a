import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { WardenRequestError } from './errors.js';
import { createClientAssertion, createDpopProof, type AgentKeyPair } from './keys.js';

export interface TaskRequest {
  /** What the task is for, in the words of the person who asked. */
  readonly purpose: string;
  /** Capabilities (tools/endpoints) the task needs: a subset of the agent's profile. */
  readonly scope: readonly string[];
  readonly lifetimeSec?: number;
  readonly ticket?: string;
  /** Act for a person (RFC 8693): their Warden API key or an OIDC ID token. */
  readonly onBehalfOf?: { readonly subjectToken: string; readonly subjectTokenType: 'api-key' | 'id_token' };
  /**
   * When a policy holds the grant for people (`APPROVAL_PENDING`), keep asking for up to
   * `waitMs` (each request itself waits as long as Warden's `approvals.waitSec`); `onPending`
   * hears the approval id once, to show people what to approve. Without it, the first
   * `APPROVAL_PENDING` is thrown.
   */
  readonly approval?: { readonly waitMs: number; readonly onPending?: (approvalId: string) => void };
}

const SUBJECT_TYPES = {
  'api-key': 'urn:warden:params:oauth:token-type:api-key',
  id_token: 'urn:ietf:params:oauth:token-type:id_token',
} as const;

interface TokenState {
  token: string;
  /** Unix ms at which the token expires. */
  expiresAt: number;
  issuedAt: number;
}

/**
 * An agent talking to Warden: it authenticates with its own key (never a shared secret),
 * starts tasks and gets, per task, a `fetch` that signs a DPoP proof for every request.
 */
export class WardenAgent {
  constructor(
    readonly opts: {
      /** Warden's base URL as configured (`publicUrl`), e.g. `http://127.0.0.1:7070`. */
      readonly wardenUrl: string;
      readonly agentId: string;
      readonly key: AgentKeyPair;
      readonly fetch?: typeof fetch;
    },
  ) {}

  private get base(): string {
    return this.opts.wardenUrl.replace(/\/+$/, '');
  }

  /** Starts a task and returns its session (token already issued). */
  async startTask(req: TaskRequest): Promise<TaskSession> {
    const form = new URLSearchParams({ purpose: req.purpose, scope: req.scope.join(' ') });
    if (req.lifetimeSec !== undefined) form.set('task_lifetime', String(req.lifetimeSec));
    if (req.ticket !== undefined) form.set('ticket', req.ticket);
    if (req.onBehalfOf) {
      form.set('grant_type', 'urn:ietf:params:oauth:grant-type:token-exchange');
      form.set('subject_token', req.onBehalfOf.subjectToken);
      form.set('subject_token_type', SUBJECT_TYPES[req.onBehalfOf.subjectTokenType]);
    } else {
      form.set('grant_type', 'client_credentials');
    }
    const deadline = Date.now() + (req.approval?.waitMs ?? 0);
    let announced: string | null = null;
    for (;;) {
      try {
        const body = await this.requestToken(new URLSearchParams(form));
        return new TaskSession(this, String(body.task), body);
      } catch (err) {
        if (!(err instanceof WardenRequestError) || err.code !== 'APPROVAL_PENDING' || !req.approval) throw err;
        const id = String(err.details?.approval ?? '');
        if (id && id !== announced) {
          announced = id;
          req.approval.onPending?.(id);
        }
        if (Date.now() >= deadline) throw err;
        // Warden already waited `approvals.waitSec` before answering; a short pause keeps a
        // server configured not to wait from being hammered.
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** @internal A token request with client assertion and DPoP proof. */
  async requestToken(form: URLSearchParams): Promise<Record<string, unknown>> {
    const endpoint = `${this.base}/oauth/token`;
    form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    form.set('client_assertion', await createClientAssertion(this.opts.key, { agentId: this.opts.agentId, audience: endpoint }));
    const dpop = await createDpopProof(this.opts.key, { method: 'POST', url: endpoint });
    const res = await (this.opts.fetch ?? fetch)(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop },
      body: form,
    });
    if (!res.ok) throw await WardenRequestError.from(res);
    return (await res.json()) as Record<string, unknown>;
  }

  /** @internal */
  get baseUrl(): string {
    return this.base;
  }
}

/** One task: a token that refreshes itself, and a DPoP-signing fetch. */
export class TaskSession {
  private state: TokenState;
  private refreshing: Promise<void> | null = null;
  readonly scope: readonly string[];
  readonly expiresAt: number;

  constructor(
    private readonly agent: WardenAgent,
    readonly taskId: string,
    first: Record<string, unknown>,
  ) {
    this.state = TaskSession.toState(first);
    this.scope = String(first.scope ?? '').split(' ').filter(Boolean);
    this.expiresAt = Number(first.task_expires_at) * 1000;
  }

  private static toState(body: Record<string, unknown>): TokenState {
    const now = Date.now();
    return { token: String(body.access_token), expiresAt: now + Number(body.expires_in) * 1000, issuedAt: now };
  }

  /** The current access token, refreshed once 80 % of its life has passed. */
  async accessToken(): Promise<string> {
    const { issuedAt, expiresAt } = this.state;
    if (Date.now() >= issuedAt + (expiresAt - issuedAt) * 0.8) await this.refresh();
    return this.state.token;
  }

  /** Gets a fresh token for this task now. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const body = await this.agent.requestToken(new URLSearchParams({ grant_type: 'client_credentials', task: this.taskId }));
        this.state = TaskSession.toState(body);
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /**
   * `fetch` with `Authorization: DPoP <token>` and a fresh proof bound to this method, URL and
   * token. A relative URL is resolved against Warden's base URL.
   */
  fetch = async (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), `${this.agent.baseUrl}/`);
    const method = (init.method ?? 'GET').toUpperCase();
    const token = await this.accessToken();
    const headers = new Headers(init.headers);
    headers.set('authorization', `DPoP ${token}`);
    headers.set('dpop', await createDpopProof(this.agent.opts.key, { method, url: url.href, accessToken: token }));
    return (this.agent.opts.fetch ?? fetch)(url, { ...init, method, headers });
  };

  /**
   * An MCP client transport to Warden's gateway (`/mcp`, Streamable HTTP) for this task: every
   * HTTP request it makes carries the task token and a fresh DPoP proof. Connect an MCP SDK
   * `Client` to it; the tools it lists are the ones this task may use, named `server.tool`.
   */
  mcpTransport(): StreamableHTTPClientTransport {
    return new StreamableHTTPClientTransport(new URL('/mcp', `${this.agent.baseUrl}/`), { fetch: (url, init) => this.fetch(url, init) });
  }

  /** Ends the task: every token of it stops working. */
  async end(): Promise<void> {
    const res = await this.fetch('/agent/v1/task/complete', { method: 'POST' });
    if (!res.ok) throw await WardenRequestError.from(res);
  }
}
