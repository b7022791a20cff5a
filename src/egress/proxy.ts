import { createHash } from 'node:crypto';
import type { CatalogTool } from '../config/schema.js';
import { WardenError } from '../errors/warden-error.js';
import { refuseCall, runCall, type Finding, type PipelineDeps, type ResultInspector } from '../pipeline/call-pipeline.js';
import type { VerifiedCredential } from '../pipeline/verified-credential.js';
import type { ConnectionPool } from './connection-pool.js';
import type { DnsCache } from './dns-cache.js';
import { forwardHttp, type ForwardDeps, type ForwardResult } from './forward.js';
import type { HeaderMap } from './headers.js';
import type { SecretResolver } from './inject-credentials.js';
import { checkPath, checkQuery } from './path-policy.js';
import { systemResolver, type Resolver } from './safe-lookup.js';
import { findHttpUpstream, type HttpUpstream } from './upstream-config.js';

/** The policy action of a request to an HTTP upstream: `<upstream>.<method>`, e.g. `github.post`. */
export const httpAction = (upstream: string, method: string): string => `${upstream}.${method.toLowerCase()}`;

/**
 * What Cedar sees of an HTTP request: `context.args.method`, `.path` (decoded), `.query`,
 * `.bodyDigest`, and `.sandbox`: the sandboxed upstream that sent it for the task (absent when
 * the agent sent it itself).
 */
const HTTP_INPUT_SCHEMA = {
  type: 'object',
  properties: { method: { type: 'string' }, path: { type: 'string' }, query: { type: 'string' }, bodyDigest: { type: 'string' }, sandbox: { type: 'string' } },
  required: ['method', 'path', 'query'],
};

/** The catalog entries of the HTTP upstreams: one action per upstream and allowed method. */
export function httpCatalog(upstreams: readonly HttpUpstream[]): CatalogTool[] {
  return upstreams.flatMap((u) =>
    u.methods.map((m) => ({
      name: httpAction(u.name, m),
      ...(u.description ? { description: u.description } : {}),
      risk: u.risk,
      tags: [...u.tags],
      labels: u.labels,
      inputSchema: HTTP_INPUT_SCHEMA,
    })),
  );
}

/** Content types whose bodies are text the inspector can read and redact. */
const TEXTUAL = /^(text\/|application\/(json|[a-z0-9.+-]+\+json|xml|[a-z0-9.+-]+\+xml|javascript|x-www-form-urlencoded|x-ndjson|graphql))/i;

export interface ProxyRequest {
  readonly upstream: string;
  readonly method: string;
  /** The raw path after `/proxy/<upstream>` (still percent-encoded). */
  readonly path: string;
  readonly query: string;
  readonly headers: HeaderMap;
  readonly body: Buffer | undefined;
  /** The sandboxed upstream this request came from (its egress proxy), if it did not come from the agent. */
  readonly sandbox?: string;
}

export interface ProxyResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/**
 * The HTTP front door (`/proxy/<upstream>/<path>`): the request is checked against the
 * upstream's methods and path prefixes, then runs the one pipeline as the action
 * `<upstream>.<method>` with its method, decoded path, query and body digest as arguments
 * (what policies read and approvals are bound to); the forwarder injects the upstream's
 * credentials and guards against SSRF; textual responses are inspected and redacted.
 */
export class HttpProxy {
  constructor(
    private readonly upstreams: readonly HttpUpstream[],
    private readonly pipeline: PipelineDeps,
    private readonly inspectResult: ResultInspector,
    private readonly deps: {
      resolveSecret: SecretResolver;
      pool: ConnectionPool;
      resolver?: Resolver;
      /** Keeps the resolver's answers for each upstream's `dnsCacheMs` (absent: every call resolves). */
      dnsCache?: DnsCache;
      /** Where the caller sees an upstream, for rewriting redirects (default `/proxy/<name>`). */
      proxyBase?: (u: HttpUpstream) => string;
    },
  ) {}

  private readonly depsByUpstream = new WeakMap<HttpUpstream, ForwardDeps>();
  /**
   * The forwarder's dependencies for one upstream, built once rather than per request: its
   * resolver (cached for the upstream's `dnsCacheMs`) and where the caller sees it.
   */
  private forwardDeps(u: HttpUpstream): ForwardDeps {
    let d = this.depsByUpstream.get(u);
    if (!d) {
      const { dnsCache, proxyBase, ...rest } = this.deps;
      const resolver = this.deps.resolver ?? systemResolver;
      d = { ...rest, resolver: dnsCache ? dnsCache.resolver(resolver, u.dnsCacheMs) : resolver, proxyBase: proxyBase?.(u) ?? `/proxy/${u.name}` };
      this.depsByUpstream.set(u, d);
    }
    return d;
  }

  /** The largest request body any upstream accepts (the HTTP layer's own bound). */
  get maxRequestBytes(): number {
    return Math.max(1024, ...this.upstreams.map((u) => u.maxRequestBytes));
  }

  async handle(cred: VerifiedCredential, req: ProxyRequest, signal?: AbortSignal): Promise<ProxyResponse> {
    let upstream: HttpUpstream;
    let checked: { path: string; decoded: string };
    let query: string;
    const body = req.body ?? Buffer.alloc(0);
    try {
      upstream = findHttpUpstream(this.upstreams, req.upstream);
      if (!(upstream.methods as readonly string[]).includes(req.method)) throw new WardenError('EGRESS_METHOD_NOT_ALLOWED', { allow: upstream.methods });
      checked = checkPath(req.path, upstream.pathPrefixes);
      query = checkQuery(req.query);
      if (body.length > upstream.maxRequestBytes) throw new WardenError('PAYLOAD_TOO_LARGE', { limit: upstream.maxRequestBytes });
      // A credential must not leave in a request body either (the pipeline scans the arguments).
      if (body.length > 0 && TEXTUAL.test(String(req.headers['content-type'] ?? ''))) this.pipeline.scanner.checkArguments({ body: body.toString('utf8') });
    } catch (err) {
      if (err instanceof WardenError) await refuseCall(this.pipeline.events, cred, { via: 'http', upstream: req.upstream.slice(0, 100), method: req.method.slice(0, 10), ...(req.sandbox ? { sandbox: req.sandbox } : {}) }, err);
      throw err;
    }
    const args: Record<string, unknown> = {
      method: req.method,
      path: checked.decoded,
      query,
      ...(body.length > 0 ? { bodyDigest: createHash('sha256').update(body).digest('base64url') } : {}),
      ...(req.sandbox ? { sandbox: req.sandbox } : {}),
    };

    const u = upstream;
    let last: ForwardResult | undefined;
    return runCall<ProxyResponse>(
      this.pipeline,
      cred,
      { via: 'http', tool: httpAction(u.name, req.method), args, bytesOut: body.length, meta: { upstream: u.name, method: req.method, path: checked.path, ...(req.sandbox ? { sandbox: req.sandbox } : {}) }, labels: u.labels },
      {
        forward: async (_args, s) => {
          // Without a caller's signal the forward's own deadline is the only one: no signal to
          // combine with it (AbortSignal.any costs more than the rest of the deadline).
          last = await forwardHttp(u, { method: req.method, path: checked.path, query, headers: req.headers, body, ...(s ? { signal: s } : {}) }, this.forwardDeps(u));
          return { status: last.status, headers: last.headers, body: last.body };
        },
        measure: (r) => r.body.length,
        digest: (r) => createHash('sha256').update(r.body).digest('base64url'),
        inspect: (r) => this.inspect(r, last ? [...last.injected] : []),
        content: (r) => (TEXTUAL.test(String(r.headers['content-type'] ?? '')) ? r.body.toString('utf8') : ''),
      },
      signal,
    );
  }

  /**
   * Text bodies are scanned and redacted like tool results; header values are checked for
   * echoed credentials. A binary body cannot be redacted safely: one that carries an injected
   * secret is refused whole.
   */
  private inspect(r: ProxyResponse, injected: readonly string[]): { result: ProxyResponse; findings: readonly Finding[] } {
    const contentType = String(r.headers['content-type'] ?? '');
    const headers = this.inspectResult(r.headers, injected);
    const findings: Finding[] = headers.findings.map((f) => ({ ...f, path: `/headers${f.path}` }));
    let body = r.body;
    if (TEXTUAL.test(contentType) || contentType === '') {
      const text = this.inspectResult(r.body.toString('utf8'), injected);
      findings.push(...text.findings.map((f) => ({ ...f, path: `/body${f.path}` })));
      if (text.findings.length > 0) body = Buffer.from(text.result, 'utf8');
    } else if (injected.some((v) => v.length >= 8 && r.body.includes(v))) {
      throw new WardenError('SECRET_IN_RESPONSE', { detectors: ['injected-secret'] });
    }
    return { result: { status: r.status, headers: headers.result, body }, findings };
  }
}
