import { z } from 'zod';
import { uniqueNames } from '../../config/refinements.js';
import { toolMetadata } from './tool-metadata.js';
import { ArgNameSchema, FlowLabelsSchema, RiskTierSchema, labelMisfits } from '../../config/tool-metadata.js';
import { ExecSettingsSchema, SandboxSchema, UpstreamSandboxSchema } from '../../sandbox/sandbox-config.js';

/** Names an upstream: the `server` of `server.tool`, so it must stay a safe, short identifier. */
export const UpstreamNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, _ and -, at most 63');

/** A name in Warden's secret store. The value is resolved when the upstream starts, never stored here. */
const SecretNameSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/, 'letters, digits and _ . : / -');

/** A reference to a secret; the config never holds the value itself. */
export const SecretRefSchema = z.object({ secret: SecretNameSchema }).strict();
export type SecretRef = z.infer<typeof SecretRefSchema>;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Warden's own variables (the master key above all) must never reach a child, whatever the
 * config says: a tool server is exactly the code we do not trust with them.
 */
const isWardenVariable = (name: string): boolean => name.toUpperCase().startsWith('WARDEN_');

const EnvNameSchema = z
  .string()
  .regex(ENV_NAME, 'an environment variable name')
  .refine((name) => !isWardenVariable(name), "Warden's own WARDEN_* variables are never passed to upstreams");

// NUL cannot be passed through the environment, and Node's spawn error would echo the value.
const EnvValueSchema = z.string().max(32 * 1024).refine((v) => !v.includes('\0'), 'must not contain NUL');

// RFC 9110 §5.1 field-name token.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Headers the HTTP client or the MCP transport owns (RFC 9110 framing, Streamable HTTP
 * session and version): letting config set them would break or hijack the session.
 */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'accept',
  'connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
]);

const HeaderNameSchema = z
  .string()
  .regex(HEADER_NAME, 'an HTTP header name')
  .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), 'this header is set by the MCP transport');

// CR/LF/NUL would split or truncate the header (RFC 9110 §5.5).
const HeaderValueSchema = z.string().max(8 * 1024).refine((v) => !/[\r\n\0]/.test(v), 'must not contain CR, LF or NUL');

/** A header value from the secret store; `format` wraps it, e.g. `Bearer {value}`. */
export const SecretHeaderSchema = z
  .object({
    secret: SecretNameSchema,
    format: z
      .string()
      .max(256)
      .refine((f) => f.split('{value}').length === 2, 'must contain {value} exactly once')
      .refine((f) => !/[\r\n\0]/.test(f), 'must not contain CR, LF or NUL')
      .optional(),
  })
  .strict();
export type SecretHeader = z.infer<typeof SecretHeaderSchema>;

/** Per-tool overrides of the upstream's defaults; labels are merged field by field. */
export const ToolOverrideSchema = z
  .object({
    risk: RiskTierSchema.optional(),
    tags: z.array(z.string().regex(/^[a-z0-9-]+$/)).max(20).optional(),
    labels: z
      .object({
        source: FlowLabelsSchema.shape.source.unwrap().optional(),
        data: FlowLabelsSchema.shape.data.unwrap().optional(),
        sink: FlowLabelsSchema.shape.sink.unwrap().optional(),
        sinkArgs: FlowLabelsSchema.shape.sinkArgs,
        untrustedFields: FlowLabelsSchema.shape.untrustedFields,
        untrustedProse: FlowLabelsSchema.shape.untrustedProse,
        trustedFields: FlowLabelsSchema.shape.trustedFields,
        anchorFields: FlowLabelsSchema.shape.anchorFields,
      })
      .strict()
      .optional(),
    /** Not offered to agents at all. */
    hidden: z.boolean().optional(),
    /**
     * Top-level arguments that carry a credential by design (the new password of a password
     * change): the argument scan lets them through, and approvers and payload capture see
     * `[secret]` in their place.
     */
    secretArgs: z.array(ArgNameSchema).max(20).optional(),
  })
  .strict();
export type ToolOverride = z.infer<typeof ToolOverrideSchema>;

const DEFAULT_LABELS = { source: 'trusted', data: 'internal', sink: 'none' } as const;

const ToolDefaultsSchema = z
  .object({
    risk: RiskTierSchema.default('medium'),
    tags: z.array(z.string().regex(/^[a-z0-9-]+$/)).max(20).default([]),
    labels: FlowLabelsSchema.default(DEFAULT_LABELS),
  })
  .strict();

const MIB = 1024 * 1024;

const common = {
  name: UpstreamNameSchema,
  /** How long the first handshake (spawn + `initialize`) may take before the child is killed. */
  startTimeoutMs: z.number().int().min(100).max(300_000).default(15_000),
  /** Default time bound of one call; a caller may ask for less or more per call. */
  callTimeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
  /** Largest serialized `CallToolResult` passed on; larger ones fail UPSTREAM_RESPONSE_TOO_LARGE. */
  maxResultBytes: z.number().int().min(1024).max(64 * MIB).default(4 * MIB),
  defaults: ToolDefaultsSchema.default({ risk: 'medium', tags: [], labels: DEFAULT_LABELS }),
  /** Keyed by the upstream's own tool name (without the `server.` prefix). */
  tools: z.record(z.string().min(1).max(128), ToolOverrideSchema).default({}),
};

/** An MCP server Warden starts as a child process and speaks to over stdin/stdout. */
export const StdioUpstreamSchema = z
  .object({
    transport: z.literal('stdio'),
    ...common,
    command: z.string().min(1).max(4096),
    args: z.array(z.string().max(32 * 1024)).max(256).default([]),
    cwd: z.string().min(1).max(4096).optional(),
    /** Set in the child: a literal, or a secret injected at start. */
    env: z.record(EnvNameSchema, z.union([EnvValueSchema, SecretRefSchema])).default({}),
    /**
     * Variables copied from Warden's own environment. Nothing else is: the child starts from an
     * empty environment plus these and `env`.
     */
    inheritEnv: z.array(EnvNameSchema).max(100).default(['PATH']),
    /** The sandbox it runs in (docs/sandbox.md); `false` runs it unsandboxed, on purpose. */
    sandbox: UpstreamSandboxSchema,
  })
  .strict();
export type StdioUpstream = z.infer<typeof StdioUpstreamSchema>;

/**
 * A server built into Warden, reached in-process. `exec` runs the commands agents ask for in
 * the same sandbox as stdio servers (always sandboxed: there is no `sandbox: false` here).
 */
export const BuiltinUpstreamSchema = z
  .object({
    transport: z.literal('builtin'),
    ...common,
    // A command runner changes things by nature: high risk unless the config says otherwise.
    defaults: ToolDefaultsSchema.default({ risk: 'high', tags: [], labels: DEFAULT_LABELS }),
    server: z.literal('exec'),
    /** Set in each command's environment: a literal, or a secret injected at start. */
    env: z.record(EnvNameSchema, z.union([EnvValueSchema, SecretRefSchema])).default({}),
    sandbox: SandboxSchema.prefault({}),
    exec: ExecSettingsSchema.prefault({}),
  })
  .strict();
export type BuiltinUpstream = z.infer<typeof BuiltinUpstreamSchema>;

/** An MCP server reached over Streamable HTTP (MCP 2025-03-26 "Transports"). */
export const HttpUpstreamSchema = z
  .object({
    transport: z.literal('http'),
    ...common,
    url: z
      .url({ protocol: /^https?$/ })
      // Credentials belong in `headers` (from the secret store): a URL is shown in listings and logs.
      .refine((u) => {
        // Refinements run even after the URL check failed: guard the parse.
        const parsed = URL.canParse(u) ? new URL(u) : undefined;
        return parsed === undefined || (parsed.username === '' && parsed.password === '');
      }, 'must not carry credentials; use headers with a secret'),
    headers: z.record(HeaderNameSchema, z.union([HeaderValueSchema, SecretHeaderSchema])).default({}),
  })
  .strict();
export type HttpUpstream = z.infer<typeof HttpUpstreamSchema>;

/** One upstream MCP server, as configured. */
export const McpUpstreamSchema = z.discriminatedUnion('transport', [StdioUpstreamSchema, HttpUpstreamSchema, BuiltinUpstreamSchema]);
export type McpUpstream = z.infer<typeof McpUpstreamSchema>;
/** What a config file may write (defaults not yet applied). */
export type McpUpstreamInput = z.input<typeof McpUpstreamSchema>;

/** The upstreams of a config: names are unique, since they prefix tool names. */
export const McpUpstreamsSchema = z
  .array(McpUpstreamSchema)
  .max(200)
  .superRefine(uniqueNames('upstream'))
  .superRefine((upstreams, ctx) => {
    // Checked on the labels each tool ends up with: the defaults, overridden field by field.
    for (const [i, u] of upstreams.entries()) {
      for (const m of labelMisfits(u.defaults.labels)) ctx.addIssue({ code: 'custom', path: [i, 'defaults', 'labels', m.label], message: m.message });
      for (const tool of Object.keys(u.tools)) {
        const { labels } = toolMetadata(u, tool);
        for (const m of labelMisfits(labels)) {
          ctx.addIssue({ code: 'custom', path: [i, 'tools', tool, 'labels', m.label], message: `${m.message} (with the upstream's defaults, this tool's source is ${labels.source})` });
        }
      }
    }
  });
