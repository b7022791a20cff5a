import type { AgentId, TaskId } from '../domain/index.js';

/**
 * What the authenticate stage proved about a request. Only `markVerified` makes one, and
 * `isVerified` tells later stages that an object really came out of authentication (the
 * jose pattern: a private WeakSet, so a look-alike object cannot slip into authorization).
 */
export interface VerifiedCredential {
  readonly agentId: AgentId;
  readonly taskId: TaskId;
  readonly jti: string;
  readonly scope: readonly string[];
  readonly jkt: string;
  /** Token expiry, Unix seconds. */
  readonly exp: number;
  readonly onBehalfOf: { readonly sub: string; readonly iss: string } | null;
}

const verified = new WeakSet<object>();

export function markVerified(cred: VerifiedCredential): VerifiedCredential {
  const frozen = Object.freeze({ ...cred, scope: Object.freeze([...cred.scope]) });
  verified.add(frozen);
  return frozen;
}

export function isVerified(cred: unknown): cred is VerifiedCredential {
  return typeof cred === 'object' && cred !== null && verified.has(cred);
}
