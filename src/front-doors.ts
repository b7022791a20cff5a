import type { CatalogTool, ConfigFile } from './config/schema.js';
import type { Agent, Task } from './domain/index.js';
import { isTaskLive, TaskIdSchema } from './domain/index.js';
import { ConnectionPool } from './egress/connection-pool.js';
import { DnsCache } from './egress/dns-cache.js';
import { HttpProxy, httpCatalog } from './egress/proxy.js';
import { WardenError } from './errors/warden-error.js';
import type { KeyObject } from 'node:crypto';
import { payloadCapture } from './audit/payload-capture.js';
import { FlowTracker } from './flow/flow-tracker.js';
import type { EventLog } from './events/event-log.js';
import { SYSTEM } from './events/event-log.js';
import { RateLimiter } from './limits/rate-limiter.js';
import { TaskCharges } from './limits/task-charges.js';
import { ToolCatalog, type ListedTool, type ServerToolSettings } from './mcp-gateway/catalog.js';
import { McpGateway, type GatewayLogger, type GatewayUpstreams } from './mcp-gateway/gateway.js';
import { UpstreamManager } from './mcp-gateway/upstreams/upstream-manager.js';
import type { McpUpstream } from './mcp-gateway/upstreams/upstream-config.js';
import type { CallScanner, PipelineDeps, ResultInspector } from './pipeline/call-pipeline.js';
import type { CallsInFlight } from './pipeline/calls-in-flight.js';
import type { AuthorizedCall, ToolCall } from './pipeline/stages/authorize.js';
import type { VerifiedCredential } from './pipeline/verified-credential.js';
import type { PolicyService, ReloadResult } from './policy/policy-service.js';
import type { RevocationSet } from './revocation/revocation-set.js';
import { compileKnownValues, createScanner, secretBlockedError, type KnownValues, type Scanner } from './scanning/index.js';
import type { SecretService } from './secrets/secret-service.js';
import { InFlightCalls } from './sandbox/in-flight-calls.js';
import { SandboxEgress, sandboxView } from './sandbox/sandbox-egress.js';
import { SandboxHost } from './sandbox/sandbox-host.js';
import { CALL_META } from './sandbox/exec-server.js';
import { UpstreamSandboxes } from './sandbox/upstream-sandboxes.js';
import { isSandboxed, type UpstreamStarted } from './mcp-gateway/upstreams/upstream-connection.js';
import type { Store } from './store/store.js';
import type { Clock } from './util/clock.js';

/** How long an agent and task read for a call are reused (their revocation is checked per call anyway). */
const ENTITY_TTL_MS = 1000;

/**
 * The scanners of the pipeline: one for outgoing arguments, and one per set of injected
 * secrets for results (compiled once per set: the sets change only when a secret rotates).
 */
export function buildScanning(config: ConfigFile): { scanner: CallScanner; inspect: ResultInspector } {
  const s = config.scanning;
  const common = { disabled: s.disabled, extraPatterns: s.extraPatterns };
  const args = createScanner({ ...common, mode: s.arguments });
  const bySet = new Map<string, Scanner>();
  const resultsFor = (injected: readonly string[]): Scanner => {
    const key = injected.join('\u0000');
    let sc = bySet.get(key);
    if (!sc) {
      const known: KnownValues | undefined = injected.length > 0 ? compileKnownValues(injected) : undefined;
      sc = createScanner({ ...common, mode: s.results, ...(known ? { knownValues: known } : {}) });
      if (bySet.size >= 64) bySet.delete(bySet.keys().next().value!);
      bySet.set(key, sc);
    }
    return sc;
  };
  return {
    scanner: {
      checkArguments(value) {
        const r = args.scanValue(value);
        if (r.action === 'block') throw secretBlockedError('arguments', r.findings);
        return { args: r.redacted as Record<string, unknown>, findings: r.findings.map((f) => ({ detector: f.detector, path: f.path })) };
      },
    },
    inspect: <T>(value: T, injected: readonly string[]) => {
      const r = resultsFor(injected).scanValue(value);
      if (r.action === 'block') throw secretBlockedError('results', r.findings);
      return { result: r.redacted as T, findings: r.findings.map((f) => ({ detector: f.detector, path: f.path })) };
    },
  };
}

/** The per-server tool settings the catalog needs, from the MCP upstream config. */
function serverSettings(mcp: readonly McpUpstream[]): ServerToolSettings[] {
  return mcp.map((u) => ({ name: u.name, defaults: u.defaults, tools: u.tools }));
}

/** The catalog of the front doors: MCP tools (pinned) and the HTTP upstreams' actions. */
export async function buildCatalog(
  config: ConfigFile,
  deps: { store: Store; events: EventLog; clock: Clock },
  onCatalogChange: (tools: CatalogTool[]) => Promise<ReloadResult>,
): Promise<ToolCatalog> {
  const catalog = new ToolCatalog(
    deps.store,
    deps.events,
    deps.clock,
    serverSettings(config.upstreams.mcp),
    [...config.tools, ...httpCatalog(config.upstreams.http)],
    onCatalogChange,
  );
  await catalog.load();
  return catalog;
}

/**
 * The upstream manager as the gateway sees it. Each call to a sandboxed or built-in upstream is
 * marked in flight with its credential, so the sandbox's egress during it is decided under that
 * task's authority (a built-in upstream is told which call it serves).
 */
function gatewayUpstreams(manager: UpstreamManager, calls: InFlightCalls): GatewayUpstreams {
  return {
    names: () => manager.names(),
    listTools: async (server) => {
      const listing = await manager.get(server).listTools();
      return listing.tools as unknown as ListedTool[];
    },
    callTool: async (server, tool, args, opts) => {
      const connection = manager.get(server);
      const progress = opts.onProgress ? { onProgress: opts.onProgress } : {};
      if (!opts.cred || !isSandboxed(connection.config)) return connection.callTool(tool, args, { signal: opts.signal, ...progress });
      const call = calls.begin(server, opts.cred);
      try {
        return await connection.callTool(tool, args, { signal: opts.signal, meta: { [CALL_META]: call.id }, ...progress });
      } finally {
        call.end();
      }
    },
    injectedValues: (server) => manager.get(server).injectedValues(),
    onToolsChanged: (listener) => void manager.onToolsChanged(listener),
  };
}

export interface FrontDoors {
  readonly catalog: ToolCatalog;
  readonly gateway?: McpGateway;
  /** Sandboxing of the MCP upstreams (absent without MCP upstreams). */
  readonly sandboxes?: UpstreamSandboxes;
  readonly proxy?: HttpProxy;
  /** The MCP upstreams' connections (state, sandboxing), when any are configured. */
  readonly upstreams?: UpstreamManager;
  /** Lists upstreams never listed before, so policies can name their tools (first start only). */
  discoverNew(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Builds the two front doors and the pipeline they share: limits, scanners, the approve stage,
 * the MCP upstreams (started lazily) and the HTTP forwarder.
 */
export function buildFrontDoors(
  config: ConfigFile,
  catalog: ToolCatalog,
  d: {
    store: Store;
    events: EventLog;
    clock: Clock;
    revocations: RevocationSet;
    policy: PolicyService;
    secrets: SecretService;
    /** The master key: flow digests are keyed from it, so replicas agree on them. */
    masterKey: KeyObject;
    approve: PipelineDeps['approve'];
    log: GatewayLogger;
    version: string;
    /** Where sandboxes keep their scratch directories (`<data-dir>/sandboxes`). */
    sandboxDir: string;
    /** Never visible inside a sandbox: the data directory, the master key file. */
    hidden: readonly string[];
    /** Counts the calls in the pipeline (the DPoP check reads it). */
    inFlight?: CallsInFlight;
  },
): FrontDoors {
  const { scanner, inspect } = buildScanning(config);
  const cache = new Map<string, { at: number; agent: Agent; task: Task }>();
  const load = async (cred: VerifiedCredential): Promise<{ agent: Agent; task: Task }> => {
    const hit = cache.get(cred.taskId);
    const now = performance.now();
    if (hit && now - hit.at < ENTITY_TTL_MS && hit.agent.id === cred.agentId) return hit;
    const [agent, task] = await Promise.all([d.store.getAgent(cred.agentId), d.store.getTask(cred.taskId)]);
    if (!agent || !task || task.agentId !== agent.id) throw new WardenError('CRED_REVOKED');
    if (!isTaskLive(task, d.clock.now())) throw new WardenError('TASK_ENDED', { task: task.id });
    if (agent.status !== 'active') throw new WardenError(agent.status === 'suspended' ? 'AGENT_SUSPENDED' : 'AGENT_RETIRED');
    if (cache.size > 10_000) cache.clear();
    const entry = { at: now, agent, task };
    // Re-inserted at the end, so the map stays in order of `at` and stale entries (tasks long
    // finished) leave from the front, instead of piling up to the bound.
    cache.delete(cred.taskId);
    cache.set(cred.taskId, entry);
    for (const [id, e] of cache) {
      if (now - e.at < ENTITY_TTL_MS) break;
      cache.delete(id);
    }
    return entry;
  };
  const capture = payloadCapture(config.audit.capture);
  // Flow tracking costs a look at every result; without an untrusted source it decides nothing.
  const flow = labelsAnyUntrusted(config) ? new FlowTracker(d.store, d.clock, d.masterKey, config.flow) : undefined;
  const charges = new TaskCharges(d.store, config.limits.task);
  const pipeline: PipelineDeps = {
    store: d.store,
    events: d.events,
    clock: d.clock,
    revocations: d.revocations,
    policy: d.policy,
    rates: new RateLimiter(config.limits.agent.ratePerSec, config.limits.agent.burst),
    charges,
    scanner,
    approve: d.approve,
    load,
    ...(d.inFlight ? { inFlight: d.inFlight } : {}),
    ...(capture ? { capture } : {}),
    ...(flow ? { flow } : {}),
  };
  const resolveSecret = (name: string) => d.secrets.resolve(name);

  let pool: ConnectionPool | undefined;
  let proxy: HttpProxy | undefined;
  let sandboxProxy: HttpProxy | undefined;
  if (config.upstreams.http.length > 0) {
    pool = new ConnectionPool();
    const dnsCache = new DnsCache();
    proxy = new HttpProxy(config.upstreams.http, pipeline, inspect, { resolveSecret, pool, dnsCache });
    // The same front door for requests from sandboxes: redirects are rewritten to what the sandbox asked for.
    sandboxProxy = new HttpProxy(config.upstreams.http, pipeline, inspect, { resolveSecret, pool, dnsCache, proxyBase: sandboxView });
  }

  let manager: UpstreamManager | undefined;
  let gateway: McpGateway | undefined;
  let sandboxes: UpstreamSandboxes | undefined;
  if (config.upstreams.mcp.length > 0) {
    const calls = new InFlightCalls();
    const egress = new SandboxEgress({ upstreams: config.upstreams.http, ...(sandboxProxy ? { proxy: sandboxProxy } : {}), calls, events: d.events, revocations: d.revocations, clock: d.clock, logger: d.log });
    const host = new SandboxHost({ config: config.sandbox, stateDir: d.sandboxDir, hide: d.hidden, egress, events: d.events, logger: d.log });
    const onStart = (s: UpstreamStarted): void => {
      if (s.transport === 'stdio' && !s.sandboxed) d.log.warn({ upstream: s.upstream }, 'upstream runs UNSANDBOXED: its config says sandbox: false');
      void d.events
        .record({ type: 'upstream.start', outcome: 'success', actor: SYSTEM, subject: s.upstream, data: { ...s } })
        .catch(() => undefined);
    };
    const onStartFailed = (upstream: string, err: WardenError): void => {
      // What is missing (SANDBOX_UNAVAILABLE), why a start failed: names and codes, never values.
      void d.events
        .record({ type: 'upstream.fail', outcome: 'failure', error: err.code, actor: SYSTEM, subject: upstream, data: { ...err.details, upstream, code: err.code, phase: 'start' } })
        .catch(() => undefined);
    };
    sandboxes = new UpstreamSandboxes(host, {
      stateDir: d.sandboxDir,
      calls,
      events: d.events,
      execUpstreams: config.upstreams.mcp.filter((u) => u.transport === 'builtin').map((u) => u.name),
      taskEnded: async (id) => {
        // Only Warden names directories there, but a name that is no task id is left alone.
        const parsed = TaskIdSchema.safeParse(id);
        if (!parsed.success) return false;
        const task = await d.store.getTask(parsed.data);
        return !task || !isTaskLive(task, d.clock.now());
      },
    });
    manager = new UpstreamManager(config.upstreams.mcp, { resolveSecret, clock: d.clock, sandbox: sandboxes, onStart, onStartFailed });
    gateway = new McpGateway(gatewayUpstreams(manager, calls), catalog, pipeline, inspect, d.log, {
      name: 'warden',
      version: d.version,
      ended: (s) => d.revocations.check({ jti: '', task: s.task, agent: s.agent, jkt: s.jkt }) !== null,
    });
    manager.onToolsChanged((upstream) => {
      const s = manager!.get(upstream).status();
      if (s.lastError) {
        void d.events
          .record({ type: 'upstream.fail', outcome: 'failure', actor: SYSTEM, subject: upstream, data: { upstream, code: s.lastError, restarts: s.restarts } })
          .catch(() => undefined);
      }
    });
  }
  return {
    catalog,
    ...(gateway ? { gateway } : {}),
    ...(sandboxes ? { sandboxes } : {}),
    ...(proxy ? { proxy } : {}),
    ...(manager ? { upstreams: manager } : {}),
    async discoverNew() {
      if (!gateway) return;
      const pinned = new Set(catalog.pinsWithState().map((p) => p.pin.server));
      const fresh = config.upstreams.mcp.map((u) => u.name).filter((n) => !pinned.has(n));
      await Promise.all(
        fresh.map((n) =>
          gateway!.ensureListed([n]).catch((err) => d.log.warn({ server: n, code: err instanceof WardenError ? err.code : 'INTERNAL' }, 'upstream not listed at start-up')),
        ),
      );
    },
    async close() {
      sandboxes?.close();
      await gateway?.close();
      await manager?.close();
      await pool?.close();
      await charges.close();
    },
  };
}

/** Whether any tool or upstream of the config is labelled `source: untrusted`. */
export function labelsAnyUntrusted(config: ConfigFile): boolean {
  return (
    config.tools.some((t) => t.labels.source === 'untrusted') ||
    config.upstreams.http.some((u) => u.labels.source === 'untrusted') ||
    config.upstreams.mcp.some((u) => u.defaults.labels.source === 'untrusted' || Object.values(u.tools).some((t) => t.labels?.source === 'untrusted'))
  );
}
