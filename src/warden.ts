// First: V8 settings that keep a V8 deoptimizer crash away (see v8-flags.ts), for embedders too.
import './v8-flags.js';
import { createServer, type Server } from 'node:http';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { ApiContext, PublicUrls } from './api/context.js';
import { buildApi } from './api/server.js';
import { DEMO_CONFIG } from './config/demo-config.js';
import { loadConfigFile } from './config/load.js';
import type { ConfigFile } from './config/schema.js';
import { AccessTokenVerifier } from './credentials/access-token/verify.js';
import { ClientAssertionVerifier } from './credentials/client-assertion/verify.js';
import { ReplayCache } from './credentials/dpop/replay-cache.js';
import { DpopVerifier } from './credentials/dpop/verify-proof.js';
import { PublicKeyCache } from './credentials/keys/public-jwk.js';
import { SigningKeyRing } from './credentials/keys/signing-keys.js';
import { SubjectTokenVerifier } from './credentials/subject-token/verify.js';
import { TokenEndpoint } from './credentials/token-endpoint/token-endpoint.js';
import { AuditLog, importLegacyEvents } from './audit/audit-log.js';
import { AuditService } from './audit/audit-service.js';
import { AuditShipper } from './audit/export/index.js';
import { loadCheckpointKey } from './audit/checkpoint-key.js';
import { SYSTEM } from './events/event-log.js';
import { canonicalDigest } from './util/canonical-digest.js';
import { AgentService } from './identity/agent-service.js';
import { PersonService } from './identity/person-service.js';
import { TaskService } from './identity/task-service.js';
import { ApprovalService, requesterOf } from './approvals/approval-service.js';
import { WebhookNotifier } from './approvals/webhooks.js';
import { PolicyService, ensurePolicyDir } from './policy/policy-service.js';
import type { PolicyProblem } from './policy/policy-set.js';
import { RequestVerifier } from './pipeline/verify-request.js';
import { RevocationSet } from './revocation/revocation-set.js';
import { loadMasterKey, type MasterKey } from './secrets/master-key.js';
import { SecretService } from './secrets/secret-service.js';
import { PostgresStore } from './store/postgres/postgres-store.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import { buildCatalog, buildFrontDoors, type FrontDoors } from './front-doors.js';
import { CallsInFlight } from './pipeline/calls-in-flight.js';
import type { AuthorizedCall, ToolCall } from './pipeline/stages/authorize.js';
import type { VerifiedCredential } from './pipeline/verified-credential.js';
import { VERSION } from './version.js';
import type { Store } from './store/store.js';
import { systemClock, type Clock } from './util/clock.js';
import { randomIds, type IdGenerator } from './util/id-generator.js';

export interface WardenOptions {
  /** Holds the SQLite database, the signing keys and `warden.yaml`. */
  readonly dataDir: string;
  readonly host?: string;
  readonly port?: number;
  /** `postgres://…`; default: SQLite in the data directory. */
  readonly databaseUrl?: string;
  readonly publicUrl?: string;
  /**
   * The master key as base64 or base64url text (the CLI passes `WARDEN_MASTER_KEY`); default:
   * the key file named by `secrets.masterKeyFile`, created on first start.
   */
  readonly masterKey?: string;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  readonly logger?: Logger;
}

export interface Initialized {
  readonly config: ConfigFile;
  readonly store: Store;
  readonly keys: SigningKeyRing;
  readonly persons: PersonService;
  readonly events: AuditLog;
  /** Seals the secret store; lives in the environment or the data directory, never the database. */
  readonly masterKey: MasterKey;
  /** The first admin's API key, when this run created it: shown once, stored only hashed. */
  readonly adminKey: string | null;
}

export const CONFIG_FILE = 'warden.yaml';

/** The policy set did not load at start: Warden does not serve without one (fail closed). */
export class PolicyLoadError extends Error {
  constructor(readonly problems: readonly PolicyProblem[]) {
    super(`policy set does not load: ${problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('; ')}`);
    this.name = 'PolicyLoadError';
  }
}

/** Opens the store the options name: PostgreSQL for a `postgres://` URL, else SQLite. */
export function openStore(dataDir: string, databaseUrl: string | undefined, opts: { durability?: 'process' | 'fsync'; walCheckpoints?: 'inline' | 'background' } = {}): Store {
  if (databaseUrl && /^postgres(ql)?:\/\//.test(databaseUrl)) return new PostgresStore(databaseUrl);
  if (databaseUrl && !databaseUrl.startsWith('sqlite:')) throw new TypeError('database URL must be postgres://… or sqlite:<path>');
  return new SqliteStore(databaseUrl ? databaseUrl.slice('sqlite:'.length) : join(dataDir, 'warden.db'), opts);
}

/**
 * Creates the data directory, its config, the schema, the signing key and the first admin,
 * each only if missing: running it again changes nothing (`warden init`, and every start).
 */
export async function initialize(opts: WardenOptions): Promise<Initialized> {
  const clock = opts.clock ?? systemClock;
  const ids = opts.ids ?? randomIds;
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  await chmod(opts.dataDir, 0o700);
  const configPath = join(opts.dataDir, CONFIG_FILE);
  await writeFile(configPath, DEMO_CONFIG, { flag: 'wx', mode: 0o600 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const config = await loadConfigFile(configPath);
  await ensurePolicyDir(join(opts.dataDir, config.policy.dir));
  // Before the store opens: a bad key must stop start-up before anything else happens.
  const masterKey = await loadMasterKey({ envValue: opts.masterKey, file: resolve(opts.dataDir, config.secrets.masterKeyFile) });
  // A server checkpoints SQLite's WAL from a thread of its own, off the requests' commits.
  const store = openStore(opts.dataDir, opts.databaseUrl ?? config.database.url, { durability: config.audit.durability, walCheckpoints: 'background' });
  try {
    await store.migrate();
    await importLegacyEvents(store);
    const events = new AuditLog(store, clock);
    const keys = new SigningKeyRing(join(opts.dataDir, 'keys'), store, clock);
    await keys.load();
    const persons = new PersonService(store, events, clock, ids);
    const adminKey = await persons.bootstrapAdmin();
    return { config, store, keys, persons, events, masterKey, adminKey };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A running Warden: the HTTP API on a port, the store, the in-memory revocation view. */
export class Warden {
  private constructor(
    /** The public URL (issuer, DPoP `htu` base). */
    readonly url: string,
    /** Where this process actually listens (differs from `url` behind a proxy). */
    readonly listenUrl: string,
    readonly adminKey: string | null,
    readonly context: ApiContext,
    private readonly app: FastifyInstance,
    private readonly server: Server,
    private readonly frontDoors: FrontDoors,
    private readonly audit: AuditLog,
  ) {}

  static async start(opts: WardenOptions): Promise<Warden> {
    const clock = opts.clock ?? systemClock;
    const ids = opts.ids ?? randomIds;
    const logger = opts.logger ?? pino({ level: process.env.WARDEN_LOG_LEVEL ?? 'info' });
    const init = await initialize(opts);
    const { config, store, keys, persons, events } = init;
    const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000 });
    let frontDoors: FrontDoors | undefined;
    const inFlight = new CallsInFlight();
    try {
      const host = opts.host ?? config.server.host ?? '127.0.0.1';
      await listen(server, opts.port ?? config.server.port ?? 7070, host);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const listenUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      const base = (opts.publicUrl ?? config.server.publicUrl ?? listenUrl).replace(/\/+$/, '');
      const urls: PublicUrls = { base, issuer: base, audience: base, tokenEndpoint: `${base}/oauth/token` };

      const t = config.tokens;
      // Built first: a missing webhook secret must fail start-up before anything is watching.
      const notifier = new WebhookNotifier(config.approvals.webhooks, { events, clock, baseUrl: base, configFile: join(opts.dataDir, CONFIG_FILE), logger });
      // The catalog comes first: the Cedar schema is generated from it (config tools, HTTP
      // upstream actions, and the MCP tools pinned on earlier runs).
      let policyRef: PolicyService | undefined;
      const catalog = await buildCatalog(config, { store, events, clock }, (tools) => policyRef!.setCatalog(tools));
      const policy = new PolicyService(join(opts.dataDir, config.policy.dir), catalog.catalogTools(), events);
      policyRef = policy;
      const approvals = new ApprovalService(store, events, clock, ids, { waitSec: config.approvals.waitSec, expirySec: config.approvals.expirySec }, notifier);
      const secrets = new SecretService(store, events, init.masterKey, clock);
      const revocationsEarly = new RevocationSet(store, clock);
      const approve = async (authorized: AuthorizedCall, _cred: VerifiedCredential, call: ToolCall): Promise<string | null> => {
        const used = await approvals.requireApproval({
          agentId: authorized.agent.id,
          taskId: authorized.task.id,
          action: call.tool,
          args: call.args,
          required: authorized.decision.approvals,
          requester: requesterOf(authorized.task.onBehalfOf),
          selfApproval: authorized.decision.selfApproval,
          policies: authorized.decision.policies,
        });
        return used.id;
      };
      frontDoors = buildFrontDoors(config, catalog, { store, events, clock, revocations: revocationsEarly, policy, secrets, masterKey: init.masterKey.key, approve, log: logger, version: VERSION, inFlight,
        sandboxDir: join(resolve(opts.dataDir), 'sandboxes'),
        // The master key file may live outside the data directory (secrets.masterKeyFile).
        hidden: [resolve(opts.dataDir), resolve(opts.dataDir, config.secrets.masterKeyFile)],
      });
      // An MCP upstream never seen before is listed now, so that policies may name its tools.
      await frontDoors.discoverNew();
      const loaded = await policy.start(config.policy.watch);
      if (!loaded.ok) {
        policy.stop();
        throw new PolicyLoadError(loaded.problems);
      }
      const foreign = await secrets.sealedUnderOtherKeys();
      if (foreign.length > 0) {
        // Not fatal: the other secrets still work, and an admin can set these again.
        logger.warn(
          { secrets: foreign.slice(0, 20), count: foreign.length, keyId: init.masterKey.keyId },
          'secrets stored with another master key cannot be read: start every replica with the same WARDEN_MASTER_KEY or key file',
        );
      }
      const revocations = revocationsEarly;
      await revocations.start();
      const keyCache = new PublicKeyCache();
      const replay = new ReplayCache((t.dpopMaxAgeSec + 2 * t.clockSkewSec) * 1000, clock.now());
      const dpop = new DpopVerifier(keyCache, replay, clock, { maxAgeSec: t.dpopMaxAgeSec, skewSec: t.clockSkewSec, offload: () => inFlight.count > 0 });
      const accessTokens = new AccessTokenVerifier(keys, clock, { issuer: urls.issuer, audience: urls.audience, skewSec: t.clockSkewSec });
      const agents = new AgentService(store, events, revocations, clock, ids);
      const tasks = new TaskService(store, events, revocations, clock, ids, config.tasks.defaultLifetimeSec, policy, approvals);
      const clients = new ClientAssertionVerifier(store, keyCache, clock, {
        audiences: [urls.tokenEndpoint, urls.issuer],
        maxAgeSec: t.clientAssertionMaxAgeSec,
        skewSec: t.clockSkewSec,
      });
      const subjects = new SubjectTokenVerifier(persons, config.oidc.issuers, clock, t.clockSkewSec);
      const tokenEndpoint = new TokenEndpoint({
        dpop,
        clients,
        subjects,
        tasks,
        keys,
        events,
        clock,
        ids,
        issuer: urls.issuer,
        audience: urls.audience,
        tokenEndpointUrl: new URL(urls.tokenEndpoint),
        accessTokenTtlSec: t.accessTokenTtlSec,
      });
      const checkpointKey = await loadCheckpointKey(join(opts.dataDir, 'keys', 'audit-checkpoint.jwk.json'), config.audit.origin);
      const audit = new AuditService(store, clock, checkpointKey, logger);
      audit.start(config.audit.checkpointEverySec);
      const exporters = config.audit.export.map(
        (e) => new AuditShipper({ store, clock, config: e, resolveHeader: (name) => secrets.resolve(name), logger: logger.child({ exporter: e.name }) }),
      );
      for (const e of exporters) e.start();
      await events.record({ type: 'warden.start', outcome: 'success', actor: SYSTEM, subject: null, data: { version: VERSION, config: canonicalDigest(config), store: store.kind, url: base } });
      const context: ApiContext = {
        config,
        urls,
        clock,
        store,
        events,
        revocations,
        keys,
        persons,
        agents,
        tasks,
        policy,
        approvals,
        secrets,
        audit,
        exporters,
        // The approve stage: hold this exact call for people, wait a while, pass once approved.
        approve,
        catalog,
        ...(frontDoors.gateway ? { gateway: frontDoors.gateway } : {}),
        ...(frontDoors.sandboxes ? { sandboxes: frontDoors.sandboxes } : {}),
        ...(frontDoors.proxy ? { proxy: frontDoors.proxy } : {}),
        ...(frontDoors.upstreams ? { upstreams: frontDoors.upstreams } : {}),
        tokenEndpoint,
        accessTokens,
        requests: new RequestVerifier(accessTokens, dpop, revocations),
      };
      const app = await buildApi(context, server, logger);
      return new Warden(base, listenUrl, init.adminKey, context, app, server, frontDoors, events);
    } catch (err) {
      await frontDoors?.close().catch(() => undefined);
      server.close();
      await store.close().catch(() => undefined);
      throw err;
    }
  }

  /** Stops accepting requests, ends open connections, closes the store. */
  async close(): Promise<void> {
    this.context.revocations.stop();
    await this.context.audit.stop();
    await Promise.all(this.context.exporters.map((e) => e.stop()));
    this.context.policy.stop();
    await this.context.approvals.close();
    await this.frontDoors.close();
    this.server.closeAllConnections();
    await this.app.close();
    await new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
    await this.audit.drain();
    await this.context.store.close();
  }
}
