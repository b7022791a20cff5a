import { z } from 'zod';
import { httpUrl, uniqueNames } from './refinements.js';

/** Names an exporter, and its cursor in the store: keep it stable, or the log is shipped again. */
const ExporterNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, _ and -, at most 63');

const EndpointSchema = z.string().superRefine(httpUrl({ query: true }));

// RFC 9110 §5.1 field-name token.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers the exporter sets itself (framing, body type) or that would break the request. */
const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'expect',
]);

// CR/LF/NUL would split or truncate the header (RFC 9110 §5.5).
const noControl = (v: string): boolean => !/[\r\n\0]/.test(v);

const FormatSchema = z
  .string()
  .max(256)
  .refine((f) => f.split('{value}').length === 2, 'must contain {value} exactly once')
  .refine(noControl, 'must not contain CR, LF or NUL');

/** A header value from Warden's secret store, e.g. `{ secret: siem-token, format: 'Bearer {value}' }`. */
const SecretHeaderSchema = z
  .object({
    secret: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/, 'letters, digits and _ . : / -'),
    format: FormatSchema.optional(),
  })
  .strict();

/**
 * A header value from an environment variable of Warden's process. Warden's own `WARDEN_*`
 * variables (the master key above all) are refused: they must never leave for a SIEM.
 */
const EnvHeaderSchema = z
  .object({
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .refine((name) => !name.toUpperCase().startsWith('WARDEN_'), "Warden's own WARDEN_* variables are never sent"),
    format: FormatSchema.optional(),
  })
  .strict();

/** A literal value (for what is not secret, e.g. a tenant id), a secret, or an environment variable. */
export const ExportHeaderValueSchema = z.union([z.string().max(8 * 1024).refine(noControl, 'must not contain CR, LF or NUL'), SecretHeaderSchema, EnvHeaderSchema]);
export type ExportHeaderValue = z.infer<typeof ExportHeaderValueSchema>;

/**
 * One exporter of `audit.export` (docs/audit-export.md): it follows the audit log and POSTs
 * it in batches to an OTLP/HTTP logs endpoint (`format: otlp`, JSON encoding) or to an HTTP
 * endpoint taking a JSON array of OCSF events (`format: ocsf`).
 */
export const AuditExportSchema = z
  .object({
    name: ExporterNameSchema,
    format: z.enum(['otlp', 'ocsf']),
    /** The full URL POSTed to; for OTLP usually ends in `/v1/logs`. */
    url: EndpointSchema,
    headers: z.record(z.string(), ExportHeaderValueSchema).default({}),
    /** Most entries in one request. */
    batchSize: z.number().int().min(1).max(10_000).default(500),
    /** How long to wait for new entries once the exporter has caught up. */
    intervalSec: z.number().min(0.1).max(3600).default(5),
    /** Per request, connection to last response byte. */
    timeoutSec: z.number().min(1).max(300).default(10),
  })
  .strict()
  .superRefine((e, ctx) => {
    // Names are checked here rather than by a key schema, whose issue would only say "Invalid key".
    for (const name of Object.keys(e.headers)) {
      if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: ['headers', name], message: 'not an HTTP header name' });
      else if (RESERVED_HEADERS.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['headers', name], message: 'this header is set by the exporter' });
    }
    const names = Object.keys(e.headers).map((h) => h.toLowerCase());
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['headers'], message: 'each header once (names are case-insensitive)' });
  });
export type AuditExport = z.infer<typeof AuditExportSchema>;
export type AuditExportInput = z.input<typeof AuditExportSchema>;

/** The exporters, with unique names: each name owns one cursor in the store. */
export const AuditExportsSchema = z
  .array(AuditExportSchema)
  .max(20)
  .superRefine(uniqueNames('exporter'));
