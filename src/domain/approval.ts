import { z } from 'zod';
import { AgentIdSchema, PersonIdSchema, TaskIdSchema } from './ids.js';

export type ApprovalId = string & { readonly __brand: 'ApprovalId' };
export const ApprovalIdSchema = z
  .string()
  .regex(/^apr_[0-9a-z]{20,40}$/)
  .transform((s) => s as ApprovalId);

/**
 * pending → approved → consumed (the approved call went through once), or pending → denied
 * (any one denial), or pending/approved → expired (an approval unused by its expiry lapses).
 */
export const ApprovalStatusSchema = z.enum(['pending', 'approved', 'denied', 'expired', 'consumed']);
export type ApprovalStatus = z.infer<typeof ApprovalStatusSchema>;

export const ApprovalDecisionSchema = z.object({
  personId: PersonIdSchema,
  decision: z.enum(['approve', 'deny']),
  comment: z.string().max(1000).nullable(),
  at: z.number().int(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecisionSchema>;

/**
 * A call held for people: bound to the agent, the task and the canonical digest of the tool
 * and its arguments (RFC 8785 JCS, SHA-256). A call with other arguments is another approval.
 */
export const ApprovalSchema = z.object({
  id: ApprovalIdSchema,
  agentId: AgentIdSchema,
  taskId: TaskIdSchema,
  /** `server.tool`, or `start_task` for a held task grant. */
  action: z.string().min(1).max(300),
  /** base64url SHA-256 of JCS({ action, args }). */
  argsDigest: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  /** The exact arguments, so approvers see what they approve (secrets already redacted). */
  args: z.record(z.string(), z.unknown()),
  required: z.number().int().min(1).max(10),
  /** The person the task acts for: cannot count towards `required` unless `selfApproval`. */
  requester: z.string().max(255).nullable(),
  selfApproval: z.boolean(),
  /** The policies that asked for the approval. */
  policies: z.array(z.string()).max(100),
  status: ApprovalStatusSchema,
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  resolvedAt: z.number().int().nullable(),
  decisions: z.array(ApprovalDecisionSchema).max(100),
});
export type Approval = z.infer<typeof ApprovalSchema>;
