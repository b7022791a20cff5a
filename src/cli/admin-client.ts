/** Thrown for a non-2xx answer: the stable code is what the CLI shows. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly details: unknown,
  ) {
    super(`${code} (HTTP ${status})`);
  }
}

export interface ClientOptions {
  url: string;
  adminKey: string | undefined;
}

/** The admin API as the CLI uses it: JSON in and out, a person's API key as Bearer. */
export class AdminClient {
  constructor(private readonly opts: ClientOptions) {}

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.opts.adminKey) {
      throw new ApiError(0, 'AUTH_REQUIRED', 'set WARDEN_ADMIN_KEY or pass --admin-key (the key printed when Warden first started)');
    }
    let res: Response;
    try {
      res = await fetch(`${this.opts.url.replace(/\/+$/, '')}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.opts.adminKey}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      throw new ApiError(0, 'UNREACHABLE', `no Warden answering at ${this.opts.url} (is \`warden serve\` running?)`);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // leave undefined
    }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; details?: unknown } } | undefined)?.error;
      throw new ApiError(res.status, err?.code ?? 'UNKNOWN', err?.details);
    }
    return parsed as T;
  }

  /** A GET whose body is streamed (exports): resolves once the answer is known to be 2xx. */
  async stream(path: string): Promise<ReadableStream<Uint8Array>> {
    if (!this.opts.adminKey) throw new ApiError(0, 'AUTH_REQUIRED', 'set WARDEN_ADMIN_KEY or pass --admin-key');
    let res: Response;
    try {
      res = await fetch(`${this.opts.url.replace(/\/+$/, '')}${path}`, { headers: { authorization: `Bearer ${this.opts.adminKey}` } });
    } catch {
      throw new ApiError(0, 'UNREACHABLE', `no Warden answering at ${this.opts.url} (is \`warden serve\` running?)`);
    }
    if (!res.ok || !res.body) {
      const err = ((await res.json().catch(() => undefined)) as { error?: { code?: string; details?: unknown } } | undefined)?.error;
      throw new ApiError(res.status, err?.code ?? 'UNKNOWN', err?.details);
    }
    return res.body;
  }
}

/** What every command group gets from the program: the API client and the output mode. */
export interface CliGlobals {
  client: () => AdminClient;
  json: () => boolean;
  /** The Warden server the CLI talks to (`--url`, WARDEN_URL, or the local default). */
  serverUrl: () => string;
}
