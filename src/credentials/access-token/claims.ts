import { z } from 'zod';
import { AgentIdSchema, TaskIdSchema } from '../../domain/index.js';

/**
 * Claims of a Warden access token (RFC 9068 §2.2, RFC 9449 §6.1). Checked after the signature,
 * like any other input: a token Warden signed is still validated before it is used.
 */
export const AccessTokenClaimsSchema = z.object({
  iss: z.string(),
  sub: AgentIdSchema,
  aud: z.string(),
  exp: z.number().int(),
  iat: z.number().int(),
  nbf: z.number().int().optional(),
  jti: z.string().regex(/^tok_[0-9a-z]{20,40}$/),
  client_id: AgentIdSchema,
  task: TaskIdSchema,
  /** Space-delimited granted capabilities (RFC 9068 §2.2.3.1). */
  scope: z.string().min(1).max(20_000),
  cnf: z.object({ jkt: z.string().regex(/^[A-Za-z0-9_-]{43}$/) }),
  /**
   * The person the agent acts for (RFC 8693 §4.1 `act`, used here as DESIGN.md fixes it:
   * `sub` stays the agent, the principal every policy decides about).
   */
  act: z.object({ sub: z.string(), iss: z.string() }).optional(),
});
export type AccessTokenClaims = z.infer<typeof AccessTokenClaimsSchema>;
