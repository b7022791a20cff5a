import { z } from 'zod';

/** What can be revoked: one token (`jti`), a task, an agent (suspended/retired), an agent key (`jkt`). */
export const RevocationKindSchema = z.enum(['token', 'task', 'agent', 'key']);
export type RevocationKind = z.infer<typeof RevocationKindSchema>;

export const RevocationSchema = z.object({
  kind: RevocationKindSchema,
  value: z.string().min(1).max(255),
  reason: z.string().max(200),
  createdAt: z.number().int(),
  /** After this instant nothing it covers can still be valid, so it may be forgotten. */
  expiresAt: z.number().int().nullable(),
  /** Set when a suspension is lifted (agent resumed). */
  liftedAt: z.number().int().nullable(),
});
export type Revocation = z.infer<typeof RevocationSchema>;
