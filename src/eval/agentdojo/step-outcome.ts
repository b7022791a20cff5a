import { McpError } from '@modelcontextprotocol/sdk/types.js';

/** The task's flow facts (DESIGN.md "Flow control") when a call was decided. */
export interface FlowFacts {
  readonly untrustedRead: boolean;
  readonly confidentialRead: boolean;
}

/**
 * What Warden did with one replayed call:
 * - `allowed`: forwarded, the recorded result returned;
 * - `denied`: refused for what the call is or carries: by policy (`POLICY_DENIED`; a policy
 *   that could not be evaluated, `POLICY_EVALUATION_FAILED`, denies too; `FLOW_BLOCKED` should
 *   a flow stage refuse), or because an argument looks like a credential (`SECRET_IN_ARGUMENTS`,
 *   with `scanning.arguments: block`) — either way the call does not happen;
 * - `held`: sent to people (`APPROVAL_PENDING`; the eval's Warden waits 0 s for them);
 * - `failed`: refused or failed for any other reason (a tool name no server offers, as a model's
 *   `<empty-function-name>`; a broken replay, `REPLAY_*`): neither a decision about the call nor
 *   a person asked.
 */
export type StepKind = 'allowed' | 'denied' | 'held' | 'failed';

export interface StepOutcome {
  readonly kind: StepKind;
  /** Warden's error code, unless allowed (`REPLAY_*` for a replay that went wrong). */
  readonly code?: string;
  /** The policies that decided a denied or held call, as the refusal names them. */
  readonly policies?: readonly string[];
  /**
   * The replay upstream answered the call: an allowed call, or a held one once approved and
   * repeated (the replay approves held calls so that Warden sees what the recorded agent saw).
   */
  readonly forwarded: boolean;
  /** The task's flow facts just before the call. */
  readonly flow: FlowFacts;
}

/** Denied and held: the two ways a call is interrupted (README "The two numbers that matter"). */
export const isInterruption = (kind: StepKind): boolean => kind === 'denied' || kind === 'held';

const DENIED = new Set(['POLICY_DENIED', 'POLICY_EVALUATION_FAILED', 'FLOW_BLOCKED', 'SECRET_IN_ARGUMENTS']);
const HELD = new Set(['APPROVAL_PENDING']);

/**
 * A refused `tools/call` as the MCP client saw it: Warden puts its code and details in the
 * JSON-RPC error's `data` (`src/mcp-gateway/gateway.ts` `toMcpError`). Anything that is not an
 * McpError (the connection broke) is not a refusal and is thrown again: the eval stops rather
 * than count a broken replay as a decision.
 */
export function classifyRefusal(err: unknown): { kind: Exclude<StepKind, 'allowed'>; code: string; policies?: string[] } {
  if (!(err instanceof McpError)) throw err;
  const data = (typeof err.data === 'object' && err.data !== null ? err.data : {}) as { code?: unknown; details?: { policies?: unknown } };
  const code = typeof data.code === 'string' ? data.code : `MCP_${err.code}`;
  const raw = data.details?.policies;
  const policies = Array.isArray(raw) ? raw.filter((p): p is string => typeof p === 'string') : undefined;
  const kind = DENIED.has(code) ? 'denied' : HELD.has(code) ? 'held' : 'failed';
  return { kind, code, ...(policies ? { policies } : {}) };
}

/** The approval a held call's refusal names (`details.approval`), if any. */
export function approvalOf(err: unknown): string | undefined {
  if (!(err instanceof McpError)) return undefined;
  const id = (err.data as { details?: { approval?: unknown } } | undefined)?.details?.approval;
  return typeof id === 'string' ? id : undefined;
}
