import { z } from 'zod';
import { AuditExportsSchema } from './audit-export-config.js';

/**
 * The `audit` block of the config (docs/audit.md).
 *
 * - `durability`: `process` commits each group of entries before the calls they record go out,
 *   so a killed Warden loses none (SQLite `synchronous=NORMAL` in WAL mode); `fsync` also
 *   survives power loss (`synchronous=FULL`: one fsync per group commit). PostgreSQL always
 *   commits synchronously under its own settings.
 * - `origin`: the log's name in its checkpoints (C2SP tlog-checkpoint); keep it stable and unique.
 * - `checkpointEverySec`: how often a checkpoint is signed when the log has grown (0: only on
 *   demand).
 * - `capture`: tools (and HTTP actions) whose arguments and results are kept in the entries, after
 *   secret redaction, up to `maxBytes` each; `*` at the end of a pattern matches any suffix.
 * - `export`: exporters that ship the log to SIEMs as OpenTelemetry logs or OCSF events
 *   (docs/audit-export.md); none by default.
 */
export const AuditConfigSchema = z
  .object({
    durability: z.enum(['process', 'fsync']).default('process'),
    origin: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^\s+]+$/, 'an origin has no spaces and no "+"')
      .optional(),
    checkpointEverySec: z.number().int().min(0).max(86_400).default(60),
    capture: z
      .object({
        tools: z.array(z.string().min(1).max(300).regex(/^[^*]*\*?$/, 'only a trailing * is a wildcard')).max(1000).default([]),
        maxBytes: z.number().int().min(64).max(1024 * 1024).default(4096),
      })
      .strict()
      .default({ tools: [], maxBytes: 4096 }),
    export: AuditExportsSchema.default([]),
  })
  .strict();
export type AuditConfig = z.infer<typeof AuditConfigSchema>;

export const AUDIT_DEFAULTS: AuditConfig = { durability: 'process', checkpointEverySec: 60, capture: { tools: [], maxBytes: 4096 }, export: [] };
