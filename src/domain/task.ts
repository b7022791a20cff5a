import { z } from 'zod';
import { AgentIdSchema, TaskIdSchema } from './ids.js';
import { CapabilitySchema } from './agent.js';
import { RoleSchema } from './person.js';

export const TaskStatusSchema = z.enum(['active', 'completed', 'revoked']);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

/** The person a task acts for, as proven at the token exchange (RFC 8693). */
export const OnBehalfOfSchema = z.object({
  /** Warden person id, or the `sub` of an external OIDC ID token. */
  sub: z.string().min(1).max(255),
  /** `warden` for Warden's own people, else the OIDC issuer URL. */
  iss: z.string().min(1).max(500),
  name: z.string().max(200).optional(),
  email: z.string().max(320).optional(),
  /** A Warden person's roles when the task was granted (what policies see); none for OIDC people. */
  roles: z.array(RoleSchema).max(10).optional(),
});
export type OnBehalfOf = z.infer<typeof OnBehalfOfSchema>;

export const TaskSchema = z.object({
  id: TaskIdSchema,
  agentId: AgentIdSchema,
  purpose: z.string().min(1).max(4000),
  scope: z.array(CapabilitySchema).min(1).max(500),
  onBehalfOf: OnBehalfOfSchema.nullable(),
  ticket: z.string().max(200).nullable(),
  status: TaskStatusSchema,
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  endedAt: z.number().int().nullable(),
  endReason: z.string().max(200).nullable(),
});
export type Task = z.infer<typeof TaskSchema>;

/** Whether a task can still run calls at `now` (ms): active, and not past its lifetime. */
export function isTaskLive(task: Pick<Task, 'status' | 'expiresAt'>, now: number): boolean {
  return task.status === 'active' && task.expiresAt > now;
}
