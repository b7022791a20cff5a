import { z } from 'zod';
import { PersonIdSchema } from './ids.js';

/** The parts of an MCP tool definition that are pinned: a change to any of them is a change. */
export const ToolDefinitionSchema = z
  .object({
    title: z.string().max(500).optional(),
    description: z.string().max(20_000).optional(),
    inputSchema: z.record(z.string(), z.unknown()),
    outputSchema: z.record(z.string(), z.unknown()).optional(),
    annotations: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type ToolDefinition = z.infer<typeof ToolDefinitionSchema>;

export const UpstreamNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/);
/** MCP tool names as Warden accepts them (MCP recommends 1–128 of `[A-Za-z0-9_.-]`). */
export const UpstreamToolNameSchema = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);

/**
 * A tool definition as first seen (and later accepted by an admin). A definition that differs
 * from the pinned one is kept aside as `pending` and the tool is withheld from agents until an
 * admin accepts it: a tool server must not be able to change what a tool says it does (tool
 * poisoning, "rug pull") behind the backs of the people who reviewed it.
 */
export const ToolPinSchema = z.object({
  server: UpstreamNameSchema,
  tool: UpstreamToolNameSchema,
  /** base64url SHA-256 of the JCS form of `definition`. */
  digest: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  definition: ToolDefinitionSchema,
  status: z.enum(['accepted', 'changed']),
  pendingDigest: z.string().regex(/^[A-Za-z0-9_-]{43}$/).nullable(),
  pendingDefinition: ToolDefinitionSchema.nullable(),
  firstSeenAt: z.number().int(),
  changedAt: z.number().int().nullable(),
  acceptedAt: z.number().int(),
  /** Who accepted the current definition; null for the one pinned when first seen. */
  acceptedBy: PersonIdSchema.nullable(),
});
export type ToolPin = z.infer<typeof ToolPinSchema>;

/** What a task has used of its budget. */
export const TaskUsageSchema = z.object({
  calls: z.number().int().min(0),
  bytesOut: z.number().int().min(0),
  bytesIn: z.number().int().min(0),
});
export type TaskUsage = z.infer<typeof TaskUsageSchema>;
