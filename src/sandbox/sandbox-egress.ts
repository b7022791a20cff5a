import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { BodyTooLarge, readBounded } from '../egress/bounded-body.js';
import { Deadline } from '../egress/deadline.js';
import type { HttpProxy } from '../egress/proxy.js';
import type { HttpUpstream } from '../egress/upstream-config.js';
import { WardenError, toWardenError } from '../errors/warden-error.js';
import type { EventLog } from '../events/event-log.js';
import { SYSTEM } from '../events/event-log.js';
import { credentialChain } from '../pipeline/credential-chain.js';
import { checkRevoked } from '../pipeline/stages/check-revoked.js';
import type { VerifiedCredential } from '../pipeline/verified-credential.js';
import type { RevocationSet } from '../revocation/revocation-set.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { InFlightCalls } from './in-flight-calls.js';
import type { EgressIdentity, EgressServer } from './sandbox-host.js';

export interface SandboxEgressDeps {
  /** Every declared HTTP upstream; a sandbox reaches those its `egress` names. */
  readonly upstreams: readonly HttpUpstream[];
  /** The HTTP front door's pipeline, with redirects rewritten to the sandbox's view (see {@link sandboxView}). */
  readonly proxy?: HttpProxy;
  readonly calls: InFlightCalls;
  readonly events?: EventLog;
  readonly revocations?: RevocationSet;
  readonly clock?: Clock;
  readonly logger?: { error(obj: object, msg: string): void };
}

/** Connections one sandbox may hold open to its egress proxy at once; more are dropped. */
const MAX_CONNECTIONS = 64;

/** How long a sandbox may take to send one request's body. */
const BODY_TIMEOUT_MS = 30_000;

/**
 * How a sandbox names an HTTP upstream: `http://<host>[:<port>]<base path>`. It always speaks
 * plain HTTP to the proxy (its requests never leave the machine unencrypted: they end at
 * Warden), and Warden speaks to the upstream as its `baseUrl` says, TLS included. An upstream
 * on a non-default port keeps it.
 */
export function sandboxView(u: HttpUpstream): string {
  const base = new URL(u.baseUrl);
  return `http://${base.host}${base.pathname.replace(/\/+$/, '')}`;
}

/** The upstream of `egress` a request target belongs to (longest base path wins), with the path under it. */
export function matchUpstream(upstreams: readonly HttpUpstream[], egress: readonly string[], target: URL): { upstream: HttpUpstream; path: string } | undefined {
  let best: { upstream: HttpUpstream; path: string; baseLength: number } | undefined;
  for (const u of upstreams) {
    if (!egress.includes(u.name)) continue;
    const view = new URL(sandboxView(u));
    if (view.host !== target.host) continue;
    const basePath = view.pathname.replace(/\/+$/, '');
    const raw = target.pathname;
    if (basePath && raw !== basePath && !raw.startsWith(`${basePath}/`)) continue;
    if (!best || basePath.length > best.baseLength) best = { upstream: u, path: raw.slice(basePath.length) || '/', baseLength: basePath.length };
  }
  return best ? { upstream: best.upstream, path: best.path } : undefined;
}

/** A host name as it may appear in an audit entry: bounded, and only host characters. */
const shownHost = (host: string | undefined): string => (host ?? '').toLowerCase().replace(/[^a-z0-9.:[\]-]/g, '').slice(0, 255);

/**
 * Warden's side of each sandbox's egress socket: an HTTP forward proxy (absolute-form
 * requests, RFC 9112 §3.2.2). A request goes on only if it names an HTTP upstream of the
 * sandbox's `egress` list, and only as the HTTP front door's own request would: the same
 * pipeline (limits, secret scan, scope and Cedar, approval, audit, credential injection, SSRF
 * address policy, response inspection) under the authority of the task whose call caused it
 * (`InFlightCalls`), with `args.sandbox` telling policies it came from the sandbox.
 *
 * `CONNECT` tunnels are refused: bytes Warden cannot read could not be decided, redacted or
 * injected with credentials. A sandbox asks for `http://<host>/…` and Warden speaks TLS to the
 * upstream. Refusals before the pipeline answer SANDBOX_EGRESS_DENIED or _UNATTRIBUTED and
 * are recorded as `sandbox.egress`.
 */
export class SandboxEgress implements EgressServer {
  private readonly clock: Clock;

  constructor(private readonly deps: SandboxEgressDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  async listen(socketPath: string, identity: EgressIdentity): Promise<{ close(): Promise<void> }> {
    const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 60_000 }, (req, res) => {
      void this.handle(identity, req, res);
    });
    // A sandbox opening connections without end must not run Warden out of file descriptors.
    server.maxConnections = MAX_CONNECTIONS;
    const refuseRaw = (req: IncomingMessage, socket: Socket, reason: string): void => {
      void this.record(identity, undefined, req.method ?? 'CONNECT', shownHost(req.url?.split(':')[0]), reason);
      const err = new WardenError('SANDBOX_EGRESS_DENIED', { reason, host: shownHost(req.url?.split(':')[0]) });
      const body = JSON.stringify(errorBody(err));
      socket.end(
        `HTTP/1.1 ${err.status} Forbidden\r\ncontent-type: application/json\r\nx-warden-code: ${err.code}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    };
    server.on('connect', (req: IncomingMessage, socket: Socket) => refuseRaw(req, socket, 'tunnel-refused'));
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => refuseRaw(req, socket, 'tunnel-refused'));
    server.on('clientError', (_err, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return {
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    };
  }

  private async handle(identity: EgressIdentity, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? '').slice(0, 16);
    let host = '';
    let cred: VerifiedCredential | undefined;
    try {
      let target: URL;
      try {
        target = new URL(req.url ?? '');
      } catch {
        throw new WardenError('SANDBOX_EGRESS_DENIED', { reason: 'not-a-proxy-request' });
      }
      host = shownHost(target.host);
      if (target.protocol !== 'http:' || target.username || target.password) throw new WardenError('SANDBOX_EGRESS_DENIED', { reason: 'not-a-proxy-request', host });
      const matched = matchUpstream(this.deps.upstreams, identity.egress, target);
      if (!matched || !this.deps.proxy) throw new WardenError('SANDBOX_EGRESS_DENIED', { reason: 'undeclared-destination', host });
      cred = this.attribute(identity);
      // The call's token may have been revoked, or have expired, while its command ran.
      if (this.deps.revocations) checkRevoked(cred, this.deps.revocations);
      if (cred.exp * 1000 <= this.clock.now()) throw new WardenError('CRED_EXPIRED');
      const deadline = new Deadline(BODY_TIMEOUT_MS);
      let body: Buffer;
      try {
        body = await readBounded(req, { limit: matched.upstream.maxRequestBytes, deadline, destroyOnStop: false });
      } catch (err) {
        if (err instanceof BodyTooLarge) throw new WardenError('PAYLOAD_TOO_LARGE', { limit: err.limit });
        throw new WardenError('INVALID_INPUT', { reason: 'body' });
      } finally {
        deadline.dispose();
      }
      const abort = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) abort.abort(new WardenError('UPSTREAM_UNAVAILABLE', { reason: 'cancelled' }));
      });
      const out = await this.deps.proxy.handle(
        cred,
        { upstream: matched.upstream.name, method, path: matched.path, query: target.search.slice(1), headers: req.headers, body, sandbox: identity.upstream },
        abort.signal,
      );
      res.writeHead(out.status, out.headers);
      res.end(method === 'HEAD' ? undefined : out.body);
    } catch (err) {
      const we = toWardenError(err);
      if (we.code === 'INTERNAL') this.deps.logger?.error({ err: we.cause ?? we, upstream: identity.upstream }, 'sandbox egress failed');
      if (we.code === 'SANDBOX_EGRESS_DENIED' || we.code === 'SANDBOX_EGRESS_UNATTRIBUTED') {
        await this.record(identity, cred, method, host, String(we.details?.reason ?? we.code));
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-warden-code': we.code, connection: 'close' };
      if (we.status === 405 && Array.isArray(we.details?.allow)) headers.allow = (we.details.allow as string[]).join(', ');
      res.writeHead(we.status, headers);
      res.end(JSON.stringify(errorBody(we)));
    }
  }

  private attribute(identity: EgressIdentity): VerifiedCredential {
    if (identity.callId !== undefined) {
      const cred = this.deps.calls.credential(identity.callId);
      if (!cred) throw new WardenError('SANDBOX_EGRESS_UNATTRIBUTED', { reason: 'no-call-in-flight' });
      return cred;
    }
    const a = this.deps.calls.attribute(identity.upstream);
    if (a.kind === 'none') throw new WardenError('SANDBOX_EGRESS_UNATTRIBUTED', { reason: a.reason });
    return a.cred;
  }

  private async record(identity: EgressIdentity, cred: VerifiedCredential | undefined, method: string, host: string, reason: string): Promise<void> {
    const code = reason === 'no-call-in-flight' || reason === 'several-tasks' ? 'SANDBOX_EGRESS_UNATTRIBUTED' : 'SANDBOX_EGRESS_DENIED';
    await this.deps.events
      ?.record({
        type: 'sandbox.egress',
        outcome: 'denied',
        error: code,
        actor: cred ? { kind: 'agent', id: cred.agentId } : SYSTEM,
        subject: identity.upstream,
        ...(cred ? { chain: credentialChain(cred) } : {}),
        data: { upstream: identity.upstream, method: method.replace(/[^A-Za-z-]/g, '').slice(0, 16), host, reason },
      })
      .catch(() => undefined);
  }
}

function errorBody(we: WardenError): { error: { code: string; message: string; details?: unknown } } {
  return { error: { code: we.code, message: we.spec.message, ...(we.details ? { details: we.details } : {}) } };
}
