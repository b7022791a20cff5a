import { z } from 'zod';
import { httpUrl, uniqueNames } from '../config/refinements.js';
import { FlowLabelsSchema, RiskTierSchema, labelMisfits } from '../config/tool-metadata.js';
import { WardenError } from '../errors/warden-error.js';
import { parseCidr } from './address-policy.js';
import { FORBIDDEN_CREDENTIAL_HEADERS, HEADER_NAME } from './headers.js';
import { dotSegment } from './path-policy.js';

const UPSTREAM_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * Methods an upstream may allow. CONNECT (a tunnel past every check here) and TRACE (echoes
 * the request, injected credentials included, RFC 9110 §9.3.8) are left out on purpose.
 */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const SecretNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$/, 'secret name');

/** A credential sent in a request header, e.g. `{ secret: github-token, header: Authorization, format: 'Bearer {value}' }`. */
export const HeaderCredentialSchema = z
  .object({
    secret: SecretNameSchema,
    header: z
      .string()
      .regex(HEADER_NAME, 'header name')
      .refine((h) => !FORBIDDEN_CREDENTIAL_HEADERS.has(h.toLowerCase()), 'a header Warden manages itself'),
    /** How the secret becomes the header value; `{value}` appears exactly once. */
    format: z
      .string()
      .regex(/^[\x20-\x7e]*$/, 'printable ASCII')
      .refine((f) => f.split('{value}').length === 2, 'contains {value} exactly once')
      .default('{value}'),
  })
  .strict();

/** A credential sent as a query parameter; it replaces any parameter of that name the agent sent. */
export const QueryCredentialSchema = z
  .object({
    secret: SecretNameSchema,
    query: z.string().regex(/^[A-Za-z0-9_.~-]{1,128}$/, 'query parameter name'),
  })
  .strict();

export const CredentialSchema = z.union([HeaderCredentialSchema, QueryCredentialSchema]);
export type Credential = z.infer<typeof CredentialSchema>;

const BaseUrlSchema = z.string().superRefine(httpUrl({ query: false }));

const PathPrefixSchema = z
  .string()
  .regex(/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/, 'a path starting with / (no %, ?, # or \\)')
  .refine((p) => !p.split('/').some(dotSegment), 'no . or .. segments');

const CidrSchema = z.string().refine((c) => parseCidr(c) !== undefined, 'an IP address or CIDR');

/**
 * One HTTP API agents reach through `/proxy/<name>/<path>`. Unknown keys are errors: a typo
 * must not silently widen what an agent can reach.
 */
export const HttpUpstreamSchema = z
  .object({
    name: z.string().regex(UPSTREAM_NAME, 'lower-case letters, digits, _ and -'),
    description: z.string().max(2000).optional(),
    /** Every request goes to this origin; its path is the root the agent's path is joined under. */
    baseUrl: BaseUrlSchema,
    methods: z.array(z.enum(HTTP_METHODS)).min(1).default(['GET']),
    /** Paths (relative to `baseUrl`) the agent may reach, matched on segment boundaries. */
    pathPrefixes: z.array(PathPrefixSchema).min(1).default(['/']),
    credentials: z.array(CredentialSchema).max(8).default([]),
    /**
     * CIDRs of otherwise blocked addresses (loopback, private, link-local, …) this upstream
     * may reach. The only way to reach them; a metadata address must be listed by itself.
     */
    allowPrivateNetwork: z.array(CidrSchema).max(64).default([]),
    /** Whole call, from reading the agent's body to the last response byte. */
    timeoutMs: z.number().int().min(10).max(600_000).default(30_000),
    /**
     * How long the addresses `baseUrl`'s host name resolved to are used before it is resolved
     * again (0: at every call). Every call still checks them against `allowPrivateNetwork`.
     */
    dnsCacheMs: z.number().int().min(0).max(300_000).default(5_000),
    maxRequestBytes: z.number().int().min(0).max(256 * 1024 * 1024).default(1024 * 1024),
    maxResponseBytes: z.number().int().min(1).max(256 * 1024 * 1024).default(10 * 1024 * 1024),
    // Policy metadata, passed through to the catalog and Cedar like a tool's.
    risk: RiskTierSchema.default('medium'),
    tags: z.array(z.string().regex(/^[a-z0-9-]+$/)).max(20).default([]),
    labels: FlowLabelsSchema.default({ source: 'trusted', data: 'internal', sink: 'none' }),
  })
  .strict()
  .superRefine((u, ctx) => {
    const targets = u.credentials.map((c) => ('header' in c ? `header:${c.header.toLowerCase()}` : `query:${c.query}`));
    if (new Set(targets).size !== targets.length) ctx.addIssue({ code: 'custom', path: ['credentials'], message: 'each header or query parameter once' });
    for (const m of labelMisfits(u.labels)) ctx.addIssue({ code: 'custom', path: ['labels', m.label], message: m.message });
  });
export type HttpUpstream = z.infer<typeof HttpUpstreamSchema>;

/** A list of upstreams with unique names. */
export const HttpUpstreamsSchema = z.array(HttpUpstreamSchema).superRefine(uniqueNames('upstream'));

/**
 * The upstream the agent named in `/proxy/<name>/…`.
 *
 * @throws WardenError `EGRESS_UPSTREAM_UNKNOWN`.
 */
export function findHttpUpstream(upstreams: readonly HttpUpstream[], name: string): HttpUpstream {
  const found = upstreams.find((u) => u.name === name);
  // The name is echoed only when it is a well-formed one: never arbitrary agent input.
  if (!found) throw new WardenError('EGRESS_UPSTREAM_UNKNOWN', UPSTREAM_NAME.test(name) ? { upstream: name } : undefined);
  return found;
}
