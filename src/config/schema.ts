import { z } from 'zod';
import { AUDIT_DEFAULTS, AuditConfigSchema } from './audit-config.js';
import { FLOW_DEFAULTS, FlowConfigSchema } from './flow-config.js';
import { HttpUpstreamsSchema } from '../egress/upstream-config.js';
import { McpUpstreamsSchema } from '../mcp-gateway/upstreams/upstream-config.js';
import { SANDBOX_HOST_DEFAULTS, SandboxHostConfigSchema } from '../sandbox/sandbox-config.js';
import { ScanningConfigSchema } from '../scanning/scanning-config.js';
import { FlowLabelsSchema, RiskTierSchema } from './tool-metadata.js';

export { FlowLabelsSchema, RISK_TIERS, RiskTierSchema } from './tool-metadata.js';

/** A trusted OIDC issuer whose ID tokens may prove a person for token exchange (RFC 8693). */
export const OidcIssuerSchema = z
  .object({
    issuer: z.url(),
    /** Expected `aud` of the ID tokens (the client id Warden is registered under). */
    audience: z.string().min(1),
    /** Where the issuer publishes its keys; defaults to OIDC discovery on the issuer. */
    jwksUri: z.url().optional(),
    /** Inline keys instead of `jwksUri` (air-gapped setups, tests). */
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
    algorithms: z.array(z.enum(['RS256', 'PS256', 'ES256', 'EdDSA'])).default(['RS256', 'ES256', 'EdDSA']),
  })
  .strict();
export type OidcIssuer = z.infer<typeof OidcIssuerSchema>;

/**
 * One tool or endpoint of the catalog: what policies decide about. The gateway issue fills
 * the catalog from upstream servers; until then it is declared here.
 */
export const CatalogToolSchema = z
  .object({
    /** `server.tool` */
    name: z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+$/, 'server.tool'),
    description: z.string().max(2000).optional(),
    risk: RiskTierSchema.default('medium'),
    /** Free-form categories policies can test, e.g. destructive, payments, auth-change. */
    tags: z.array(z.string().regex(/^[a-z0-9-]+$/)).max(20).default([]),
    labels: FlowLabelsSchema.default({ source: 'trusted', data: 'internal', sink: 'none' }),
    /** JSON Schema of the tool's input: becomes the Cedar context type of its action. */
    inputSchema: z.record(z.string(), z.unknown()).default({ type: 'object' }),
  })
  .strict();
export type CatalogTool = z.infer<typeof CatalogToolSchema>;

/** A webhook notified of approvals; its HMAC secret comes from the environment, never the file. */
export const WebhookSchema = z
  .object({
    url: z.url(),
    /** Name of the environment variable holding the HMAC-SHA256 secret. */
    secretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/),
    events: z.array(z.enum(['approval.requested', 'approval.decided'])).default(['approval.requested', 'approval.decided']),
  })
  .strict();

const LIMIT_DEFAULTS = {
  task: { calls: 10_000, bytesOut: 64 * 1024 * 1024, bytesIn: 1024 * 1024 * 1024 },
  agent: { ratePerSec: 50, burst: 100 },
};

/**
 * Per-task budgets (charged in the store, so they hold across replicas) and per-agent rates
 * (a token bucket in each replica). Calls over either fail with BUDGET_EXCEEDED / RATE_LIMITED.
 */
export const LimitsSchema = z
  .object({
    task: z
      .object({
        calls: z.number().int().min(1).max(1e12).default(LIMIT_DEFAULTS.task.calls),
        bytesOut: z.number().int().min(1).max(1e15).default(LIMIT_DEFAULTS.task.bytesOut),
        bytesIn: z.number().int().min(1).max(1e15).default(LIMIT_DEFAULTS.task.bytesIn),
      })
      .strict()
      .default(LIMIT_DEFAULTS.task),
    agent: z
      .object({
        ratePerSec: z.number().min(0.01).max(100_000).default(LIMIT_DEFAULTS.agent.ratePerSec),
        burst: z.number().int().min(1).max(1_000_000).default(LIMIT_DEFAULTS.agent.burst),
      })
      .strict()
      .default(LIMIT_DEFAULTS.agent),
  })
  .strict();

/** `<data-dir>/warden.yaml`. Unknown keys are errors: a typo must not silently weaken a setting. */
export const ConfigFileSchema = z
  .object({
    server: z
      .object({
        host: z.string().min(1).optional(),
        port: z.number().int().min(0).max(65535).optional(),
        /** The URL agents use to reach Warden: issuer, audience and DPoP `htu` derive from it. */
        publicUrl: z.url().optional(),
        /** Largest accepted request body, in bytes. */
        bodyLimit: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
      })
      .strict()
      .default({ bodyLimit: 1024 * 1024 }),
    database: z.object({ url: z.string().min(1).optional() }).strict().default({}),
    tokens: z
      .object({
        /** Access-token lifetime; at most 15 minutes unless raised here on purpose. */
        accessTokenTtlSec: z.number().int().min(30).max(3600).default(900),
        clockSkewSec: z.number().int().min(0).max(300).default(5),
        /** How far in the past a DPoP proof's `iat` may be (RFC 9449 §11.1). */
        dpopMaxAgeSec: z.number().int().min(5).max(600).default(60),
        /** Longest accepted client assertion (`exp - now`), RFC 7523 §3 item 4. */
        clientAssertionMaxAgeSec: z.number().int().min(10).max(3600).default(300),
      })
      .strict()
      .default({ accessTokenTtlSec: 900, clockSkewSec: 5, dpopMaxAgeSec: 60, clientAssertionMaxAgeSec: 300 }),
    tasks: z
      .object({ defaultLifetimeSec: z.number().int().min(60).max(30 * 24 * 3600).default(3600) })
      .strict()
      .default({ defaultLifetimeSec: 3600 }),
    oidc: z.object({ issuers: z.array(OidcIssuerSchema).default([]) }).strict().default({ issuers: [] }),
    tools: z.array(CatalogToolSchema).max(10_000).default([]),
    policy: z
      .object({
        /** Directory of `.cedar` files, relative to the data directory. */
        dir: z.string().min(1).default('policies'),
        /** Reload when a file changes (a bad file never replaces the running set). */
        watch: z.boolean().default(true),
      })
      .strict()
      .default({ dir: 'policies', watch: true }),
    approvals: z
      .object({
        /** How long a held call waits for the decision before failing with APPROVAL_PENDING. */
        waitSec: z.number().int().min(0).max(300).default(30),
        /** How long an approval request stays open. */
        expirySec: z.number().int().min(60).max(7 * 24 * 3600).default(3600),
        webhooks: z.array(WebhookSchema).max(20).default([]),
      })
      .strict()
      .default({ waitSec: 30, expirySec: 3600, webhooks: [] }),
    limits: LimitsSchema.default(LIMIT_DEFAULTS),
    /** Secret scanning of tool results, HTTP responses and outgoing arguments (docs/scanning.md). */
    scanning: ScanningConfigSchema.prefault({}),
    /** What agents reach through Warden: HTTP APIs at `/proxy/<name>/…`. */
    upstreams: z
      .object({
        /** MCP servers whose tools agents reach through `/mcp` as `<name>.<tool>`. */
        mcp: McpUpstreamsSchema.default([]),
        /** HTTP APIs agents reach at `/proxy/<name>/…`, as the actions `<name>.<method>`. */
        http: HttpUpstreamsSchema.default([]),
      })
      .strict()
      .superRefine((u, ctx) => {
        // One namespace: `<name>.` must say which upstream an action belongs to.
        const mcp = new Set(u.mcp.map((m) => m.name));
        u.http.forEach((h, i) => {
          if (mcp.has(h.name)) ctx.addIssue({ code: 'custom', path: ['http', i, 'name'], message: 'an MCP upstream has this name already' });
        });
        // A sandbox reaches only declared HTTP upstreams: a name that is not one is a typo, not a wish.
        const http = new Set(u.http.map((h) => h.name));
        u.mcp.forEach((m, i) => {
          const egress = m.transport !== 'http' && m.sandbox !== false ? m.sandbox.egress : [];
          egress.forEach((name, j) => {
            if (!http.has(name)) ctx.addIssue({ code: 'custom', path: ['mcp', i, 'sandbox', 'egress', j], message: 'not an HTTP upstream of upstreams.http' });
          });
        });
      })
      .default({ mcp: [], http: [] }),
    secrets: z
      .object({
        /**
         * The master key file, relative to the data directory; created (0600) on first start.
         * `WARDEN_MASTER_KEY` (base64 or base64url), when set, is used instead.
         */
        masterKeyFile: z.string().min(1).default('keys/master.key'),
      })
      .strict()
      .default({ masterKeyFile: 'keys/master.key' }),
    /** What Warden does about toxic flows (docs/flow.md). */
    flow: FlowConfigSchema.default(FLOW_DEFAULTS),
    /** The tamper-evident audit log (docs/audit.md). */
    audit: AuditConfigSchema.default(AUDIT_DEFAULTS),
    /** How sandboxes are built on this host (docs/sandbox.md); each upstream has its own `sandbox:` too. */
    sandbox: SandboxHostConfigSchema.default({ ...SANDBOX_HOST_DEFAULTS, runAs: { ...SANDBOX_HOST_DEFAULTS.runAs } }),
  })
  .strict();
export type ConfigFile = z.infer<typeof ConfigFileSchema>;
