import type { Dispatcher } from 'undici';
import { WardenError } from '../errors/warden-error.js';
import { systemClock, type Clock } from '../util/clock.js';
import { createAddressPolicy, type AddressPolicy } from './address-policy.js';
import { BodyTooLarge, discard, readBounded, type BodySource } from './bounded-body.js';
import { oneShot, type ConnectionPool, type Lease } from './connection-pool.js';
import { Deadline } from './deadline.js';
import { sanitizeRequestHeaders, sanitizeResponseHeaders, type HeaderMap } from './headers.js';
import { injectHeaders, injectQuery, resolveCredentials, type SecretResolver } from './inject-credentials.js';
import { checkPath, checkQuery } from './path-policy.js';
import { isRedirect, rewriteLocation, rewriteRedirect } from './redirect.js';
import { resolveTarget, systemResolver, type Resolver } from './safe-lookup.js';
import type { HttpUpstream } from './upstream-config.js';

/** One agent request for `/proxy/<upstream>/<path>`, as the route hands it over. */
export interface EgressRequest {
  readonly method: string;
  /** What follows `/proxy/<name>` in the request target, still percent-encoded; `''` means `/`. */
  readonly path: string;
  /** The raw query string, with or without its leading `?`. */
  readonly query?: string;
  readonly headers: HeaderMap;
  /** Not read past `maxRequestBytes`; a stream is left open (not destroyed) when refused. */
  readonly body?: BodySource;
  /** Aborts the call when the agent goes away. */
  readonly signal?: AbortSignal;
}

export interface ForwardDeps {
  /** The value of a secret by name; never logged, never put in an error. */
  readonly resolveSecret: SecretResolver;
  /** DNS for upstream host names (default: the system resolver). */
  readonly resolver?: Resolver;
  readonly clock?: Clock;
  /** Keep-alive connections shared across calls; without one each call opens its own. */
  readonly pool?: ConnectionPool;
  /** Where the upstream is mounted for the agent (default `/proxy/<name>`); redirects are rewritten under it. */
  readonly proxyBase?: string;
}

/** The upstream's answer, read in full so the response inspector can scan it before the agent sees it. */
export interface ForwardResult {
  readonly status: number;
  /** Hop-by-hop fields (RFC 9110 §7.6.1), `set-cookie`, `alt-svc` and `content-length` removed; a same-upstream `location` rewritten. */
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
  /** Request body bytes sent upstream. */
  readonly bytesOut: number;
  /** Response body bytes received. */
  readonly bytesIn: number;
  readonly latencyMs: number;
  /** The IP address the connection went to (checked against the upstream's address policy). */
  readonly address: string;
  /**
   * The secret values injected into this call (raw and URL-encoded), for redacting echoes.
   * Not enumerable, so logging or serializing the result does not print them (and a spread
   * `{ ...result }` drops them: read `result.injected` itself).
   */
  readonly injected: ReadonlySet<string>;
}

/** Each upstream's `baseUrl` parsed once, not per request (keyed by the text; read, never changed). */
const baseUrls = new Map<string, URL>();
function baseUrlOf(upstream: HttpUpstream): URL {
  let url = baseUrls.get(upstream.baseUrl);
  if (!url) {
    if (baseUrls.size >= 1024) baseUrls.clear();
    baseUrls.set(upstream.baseUrl, (url = new URL(upstream.baseUrl)));
  }
  return url;
}

const policies = new WeakMap<readonly string[], AddressPolicy>();
function addressPolicy(upstream: HttpUpstream): AddressPolicy {
  let policy = policies.get(upstream.allowPrivateNetwork);
  if (!policy) policies.set(upstream.allowPrivateNetwork, (policy = createAddressPolicy(upstream.allowPrivateNetwork)));
  return policy;
}

/**
 * Which step a failure happened in: `request` (reading the agent's body; a timeout there is
 * the agent's slowness, not the upstream's), `upstream` (DNS, secrets, connecting, waiting for
 * the status line) or `response` (reading the response body).
 */
type Phase = 'request' | 'upstream' | 'response';

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

/**
 * Forwards one agent request to an HTTP upstream, after the pipeline allowed it. Order: the
 * cheap checks that need no I/O (method, path, query, headers), then the agent's body
 * (counted, bounded), then the destination (resolved and checked, see `resolveTarget`),
 * and only then the secrets: a call that cannot go out never touches the secret store.
 * The request goes to `baseUrl`'s origin and nowhere else, over a socket pinned to the
 * checked address; redirects are never followed (see `rewriteRedirect`). One deadline
 * (`timeoutMs`) covers everything from reading the body to the last response byte.
 *
 * @throws WardenError `EGRESS_METHOD_NOT_ALLOWED`, `EGRESS_PATH_NOT_ALLOWED`,
 *   `INVALID_INPUT` (header or query), `PAYLOAD_TOO_LARGE`, `EGRESS_ADDRESS_BLOCKED`,
 *   `EGRESS_CREDENTIAL_UNAVAILABLE`, `EGRESS_REDIRECT_BLOCKED`, `UPSTREAM_TIMEOUT`,
 *   `UPSTREAM_UNAVAILABLE`, `UPSTREAM_RESPONSE_TOO_LARGE`; never with a secret in it.
 */
export async function forwardHttp(upstream: HttpUpstream, request: EgressRequest, deps: ForwardDeps): Promise<ForwardResult> {
  const clock = deps.clock ?? systemClock;
  const started = clock.now();
  const method = request.method;
  if (!(upstream.methods as readonly string[]).includes(method)) {
    // RFC 9110 §15.5.6: a 405 lists the allowed methods (the `Allow` header).
    throw new WardenError('EGRESS_METHOD_NOT_ALLOWED', { allow: upstream.methods });
  }
  const { path } = checkPath(request.path, upstream.pathPrefixes);
  const query = checkQuery(request.query ?? '');
  const headers = sanitizeRequestHeaders(request.headers);
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > upstream.maxRequestBytes) {
    throw new WardenError('PAYLOAD_TOO_LARGE', { limit: upstream.maxRequestBytes });
  }

  const deadline = new Deadline(upstream.timeoutMs, request.signal);
  let phase: Phase = 'request';
  let lease: Lease | undefined;
  let response: Dispatcher.ResponseData | undefined;
  try {
    const body = await readBounded(request.body, { limit: upstream.maxRequestBytes, deadline, destroyOnStop: false });
    phase = 'upstream';
    const baseUrl = baseUrlOf(upstream);
    const target = await resolveTarget(baseUrl, addressPolicy(upstream), deps.resolver ?? systemResolver, (p) => deadline.race(p));
    const injection = await deadline.race(resolveCredentials(upstream.credentials, deps.resolveSecret));

    const fullPath = `${baseUrl.pathname.replace(/\/+$/, '')}${path}`;
    const sentQuery = injectQuery(query, injection);
    const outHeaders = injectHeaders(headers, injection);
    // Plain bytes: what the inspector scans and the limit counts is what the agent gets.
    outHeaders['accept-encoding'] = 'identity';
    // RFC 9110 §7.6.3: a gateway adds itself to Via on the requests it forwards.
    const agentVia = headers.via === undefined ? [] : [headers.via].flat();
    outHeaders.via = [...agentVia, '1.1 warden'].join(', ');

    lease = deps.pool ? deps.pool.lease(baseUrl.origin, target) : oneShot(baseUrl.origin, target);
    response = await lease.dispatcher.request({
      method: method as Dispatcher.HttpMethod,
      path: sentQuery ? `${fullPath}?${sentQuery}` : fullPath,
      headers: outHeaders,
      body: body.byteLength === 0 && BODYLESS.has(method) ? null : body,
      signal: deadline.signal,
    });
    phase = 'response';

    const { statusCode: status } = response;
    const declaredIn = Number(response.headers['content-length']);
    if (method !== 'HEAD' && Number.isFinite(declaredIn) && declaredIn > upstream.maxResponseBytes) throw new BodyTooLarge(upstream.maxResponseBytes);
    const resultHeaders = sanitizeResponseHeaders(response.headers);
    const location = response.headers.location;
    if (location !== undefined) {
      const context = {
        status,
        requestUrl: new URL(fullPath, baseUrl.origin),
        baseUrl,
        pathPrefixes: upstream.pathPrefixes,
        proxyBase: (deps.proxyBase ?? `/proxy/${upstream.name}`).replace(/\/+$/, ''),
        injectedParams: [...injection.query.keys()],
      };
      const shown = isRedirect(status) ? rewriteRedirect(location, context) : rewriteLocation(location, context);
      resultHeaders.location = typeof shown === 'string' ? shown : [...shown];
    }
    const received = await readBounded(response.body, { limit: upstream.maxResponseBytes, deadline, destroyOnStop: true });

    const result = {
      status,
      headers: resultHeaders,
      body: received,
      bytesOut: body.byteLength,
      bytesIn: received.byteLength,
      latencyMs: clock.now() - started,
      address: target.address,
    };
    return Object.defineProperty(result, 'injected', { value: injection.values, enumerable: false }) as ForwardResult;
  } catch (err) {
    if (response) discard(response.body);
    throw failure(err, phase, deadline, upstream);
  } finally {
    deadline.dispose();
    lease?.release();
  }
}

/** Maps whatever stopped the call to its error code; causes stay server-side. */
function failure(err: unknown, phase: Phase, deadline: Deadline, upstream: HttpUpstream): WardenError {
  if (err instanceof WardenError) return err;
  if (err instanceof BodyTooLarge) {
    return phase === 'request'
      ? new WardenError('PAYLOAD_TOO_LARGE', { limit: err.limit })
      : new WardenError('UPSTREAM_RESPONSE_TOO_LARGE', { limit: err.limit });
  }
  if (deadline.timedOut) return new WardenError('UPSTREAM_TIMEOUT', { timeoutMs: upstream.timeoutMs, phase }, { cause: err });
  if (deadline.signal.aborted) return new WardenError('UPSTREAM_UNAVAILABLE', { reason: 'cancelled', phase }, { cause: err });
  if (phase === 'request') return new WardenError('INVALID_INPUT', { reason: 'body' }, { cause: err });
  const code = (err as { code?: unknown }).code;
  // undici rejecting our own arguments is a bug here, not an unavailable upstream.
  if (code === 'UND_ERR_INVALID_ARG') return new WardenError('INTERNAL', undefined, { cause: err });
  return new WardenError('UPSTREAM_UNAVAILABLE', { reason: typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'network', phase }, { cause: err });
}
