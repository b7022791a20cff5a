import { z } from 'zod';

/**
 * The `flow` block of the config (docs/flow.md): what Warden does about toxic flows.
 * - `onViolation`: `approve` holds such a call for a person; `deny` refuses it.
 * - `internalDomains`: the organisation's domains; an address or URL on one of them (or a
 *   subdomain) is inside, for tools whose sink depends on their arguments (`sinkArgs`).
 * - `maxValuesPerTask`: how many seen values (by digest) a task keeps; past it, what the task
 *   reads from untrusted sources marks its provenance incomplete, and that fails closed.
 */
export const FlowConfigSchema = z
  .object({
    onViolation: z.enum(['approve', 'deny']).default('approve'),
    internalDomains: z
      .array(z.string().min(1).max(253).regex(/^(?!-)[a-z0-9-]{1,63}(\.(?!-)[a-z0-9-]{1,63})+$/, 'a lower-case domain name'))
      .max(1000)
      .default([]),
    maxValuesPerTask: z.number().int().min(100).max(100_000).default(20_000),
  })
  .strict();
export type FlowConfig = z.infer<typeof FlowConfigSchema>;

export const FLOW_DEFAULTS: FlowConfig = { onViolation: 'approve', internalDomains: [], maxValuesPerTask: 20_000 };
