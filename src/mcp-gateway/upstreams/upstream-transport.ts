import { DEFAULT_INHERITED_ENV_VARS, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { WardenError } from '../../errors/warden-error.js';
import { trackChild } from './child-reaper.js';
import { Agent } from 'undici';
import { guardedFetch, postFetch, type FetchGuard } from './guarded-fetch.js';
import type { SandboxLaunch } from '../../sandbox/sandbox-host.js';
import type { BuiltinUpstream, HttpUpstream, McpUpstream, StdioUpstream } from './upstream-config.js';

/** Looks a secret up in Warden's secret store. Rejects when there is no such secret. */
export type ResolveSecret = (name: string) => Promise<string>;

/** Secret name → value, for one start of one upstream. */
export type ResolvedSecrets = ReadonlyMap<string, string>;

/** Secret names the upstream's config refers to. */
function secretNames(upstream: McpUpstream): string[] {
  const refs = Object.values(upstream.transport === 'http' ? upstream.headers : upstream.env);
  return [...new Set(refs.flatMap((v) => (typeof v === 'string' ? [] : [v.secret])))];
}

/**
 * Fetches every secret the upstream needs. Fails UPSTREAM_UNAVAILABLE naming the secret (never
 * its value) when one is missing or cannot be injected safely: a value with NUL cannot pass
 * through an environment, and CR/LF in a header value would split the request.
 */
export async function resolveSecrets(upstream: McpUpstream, resolve: ResolveSecret): Promise<ResolvedSecrets> {
  const names = secretNames(upstream);
  const values = await Promise.all(
    names.map(async (secret) => {
      let value: unknown;
      try {
        value = await resolve(secret);
      } catch {
        // The store's error may quote what it read; only the name leaves here.
        throw new WardenError('UPSTREAM_UNAVAILABLE', { upstream: upstream.name, reason: 'secret-unavailable', secret });
      }
      const forbidden = upstream.transport === 'http' ? /[\r\n\0]/ : /\0/;
      if (typeof value !== 'string' || forbidden.test(value)) {
        throw new WardenError('UPSTREAM_UNAVAILABLE', { upstream: upstream.name, reason: 'secret-invalid', secret });
      }
      return [secret, value] as const;
    }),
  );
  return new Map(values);
}

/**
 * The child's whole environment: `inheritEnv` copied from `parentEnv`, then `env` with secrets
 * filled in. The SDK spreads its own default list (HOME, USER, SHELL, …) under what we pass;
 * those are set to `undefined` unless declared, which Node's spawn leaves out of the child's
 * environment, so nothing undeclared leaks.
 */
export function childEnvironment(
  upstream: StdioUpstream | BuiltinUpstream,
  secrets: ResolvedSecrets,
  parentEnv: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of DEFAULT_INHERITED_ENV_VARS) env[name] = undefined;
  for (const name of upstream.transport === 'stdio' ? upstream.inheritEnv : []) {
    const value = parentEnv[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(upstream.env)) env[name] = typeof value === 'string' ? value : secrets.get(value.secret);
  return env;
}

/** The request headers of an HTTP upstream, secrets filled in and formatted. */
export function requestHeaders(upstream: HttpUpstream, secrets: ResolvedSecrets): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (typeof value === 'string') {
      headers[name] = value;
    } else {
      const secret = secrets.get(value.secret) ?? '';
      // split/join, not String.replace: a `$&` in the secret must stay literal.
      headers[name] = (value.format ?? '{value}').split('{value}').join(secret);
    }
  }
  return headers;
}

/**
 * Slack over `maxResultBytes` for one framed message: the JSON-RPC envelope around a result.
 * A message past it cannot carry an acceptable result, so it is refused before it is buffered.
 */
export const FRAMING_SLACK_BYTES = 1024 * 1024;

/** Registers its child with the reaper the moment it exists, so it cannot outlive Warden. */
class ReapedStdioClientTransport extends StdioClientTransport {
  constructor(
    params: ConstructorParameters<typeof StdioClientTransport>[0],
    private readonly onSpawn?: (pid: number) => void,
  ) {
    super(params);
  }

  override async start(): Promise<void> {
    await super.start();
    if (this.pid !== null) {
      trackChild(this.pid);
      this.onSpawn?.(this.pid);
    }
  }
}

/** The environment as a sandbox takes it: only the variables that are set. */
export function definedEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * The transport of a stdio upstream: its command as a plain child, or, when `sandbox` is given,
 * the sandbox's launcher (the sandbox's environment is the child's environment; the command
 * runs inside).
 */
export function stdioTransport(
  upstream: StdioUpstream,
  secrets: ResolvedSecrets,
  parentEnv: Readonly<Record<string, string | undefined>>,
  sandbox?: SandboxLaunch,
): StdioClientTransport {
  const env = sandbox
    ? { ...Object.fromEntries(DEFAULT_INHERITED_ENV_VARS.map((n) => [n, undefined])), ...sandbox.env }
    : childEnvironment(upstream, secrets, parentEnv);
  return new ReapedStdioClientTransport({
    command: sandbox ? sandbox.command : upstream.command,
    args: sandbox ? [...sandbox.args] : upstream.args,
    ...(upstream.cwd === undefined || sandbox ? {} : { cwd: upstream.cwd }),
    // The SDK types env as string values; `undefined` is how a default is withheld (see childEnvironment).
    env: env as Record<string, string>,
    // Piped, never inherited: the child's stderr must not reach Warden's own output or a caller.
    stderr: 'pipe',
    maxBufferSize: upstream.maxResultBytes + FRAMING_SLACK_BYTES,
  }, sandbox ? (pid) => sandbox.started(pid) : undefined);
}

export function httpTransport(
  upstream: HttpUpstream,
  secrets: ResolvedSecrets,
  hooks: Omit<FetchGuard, 'limitBytes'>,
): StreamableHTTPClientTransport {
  const guard: FetchGuard = { ...hooks, limitBytes: upstream.maxResultBytes + FRAMING_SLACK_BYTES };
  // The session's own keep-alive connections for its POSTs; closed with the transport.
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
  const transport = new StreamableHTTPClientTransport(new URL(upstream.url), {
    requestInit: { headers: requestHeaders(upstream, secrets) },
    fetch: guardedFetch(guard, fetch, postFetch(guard, dispatcher)),
    // Injected headers must not follow a redirect to another origin (the SDK's default; stated
    // here because it is a security property, not a convenience).
    redirectPolicy: 'same-origin',
  });
  const close = transport.close.bind(transport);
  transport.close = async () => {
    try {
      await close();
    } finally {
      dispatcher.destroy().catch(() => undefined);
    }
  };
  return transport;
}
