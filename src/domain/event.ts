import { z } from 'zod';

/** Who caused an event: a person, an agent, or Warden itself. */
export const ActorSchema = z.object({
  kind: z.enum(['person', 'agent', 'system']),
  id: z.string().max(255),
});
export type Actor = z.infer<typeof ActorSchema>;

export const EventOutcomeSchema = z.enum(['success', 'denied', 'failure']);

/** A minimal identity event; the audit issue turns the log of these into a Merkle tree. */
export const EventInputSchema = z.object({
  type: z.string().regex(/^[a-z][a-z_]*(\.[a-z_]+)+$/),
  outcome: EventOutcomeSchema,
  actor: ActorSchema,
  subject: z.string().max(255).nullable(),
  data: z.record(z.string(), z.unknown()),
});
export type EventInput = z.infer<typeof EventInputSchema>;

export const EventRecordSchema = EventInputSchema.extend({
  seq: z.number().int().nonnegative(),
  time: z.number().int(),
});
export type EventRecord = z.infer<typeof EventRecordSchema>;
