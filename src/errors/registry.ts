/**
 * The one registry of Warden's error codes. Each code is mapped once to an HTTP status, a
 * JSON-RPC error code, an OAuth error (RFC 6749 §5.2 / RFC 6750 §3.1 / RFC 9449 §7.1) where
 * one applies, and whether a retry of the same request can succeed.
 *
 * Messages are fixed per code and never carry request data: tokens, keys and secrets must not
 * reach a caller or a log through an error. Structured, non-secret `details` travel beside them.
 */
export interface ErrorSpec {
  readonly status: number;
  readonly jsonrpc: number;
  readonly oauth?: string;
  readonly retryable: boolean;
  readonly message: string;
}

const spec = (
  status: number,
  message: string,
  oauth?: string,
  opts: { jsonrpc?: number; retryable?: boolean } = {},
): ErrorSpec => ({
  status,
  message,
  ...(oauth ? { oauth } : {}),
  // -32001..-32099 are free for implementations (JSON-RPC 2.0 §5.1); -32602 is "invalid params".
  jsonrpc: opts.jsonrpc ?? (status >= 500 ? -32603 : status === 400 ? -32602 : -32001),
  retryable: opts.retryable ?? false,
});

export const ERRORS = {
  // Input and protocol
  INVALID_INPUT: spec(400, 'The request is invalid', 'invalid_request'),
  PAYLOAD_TOO_LARGE: spec(413, 'The request body is too large', 'invalid_request'),
  UNSUPPORTED_MEDIA_TYPE: spec(415, 'The request content type is not supported', 'invalid_request'),
  NOT_FOUND: spec(404, 'No such resource'),
  METHOD_NOT_ALLOWED: spec(405, 'Method not allowed for this resource'),
  CONFLICT: spec(409, 'The resource already exists or changed concurrently'),

  // Admin and person authentication
  AUTH_REQUIRED: spec(401, 'Authentication is required', 'invalid_token'),
  AUTH_INVALID: spec(401, 'The credential is not valid', 'invalid_token'),
  AUTH_FORBIDDEN: spec(403, 'The credential does not allow this operation', 'insufficient_scope'),

  // Access tokens (RFC 9068 JWTs issued by Warden)
  CRED_MISSING: spec(401, 'A DPoP-bound access token is required', 'invalid_token'),
  CRED_MALFORMED: spec(401, 'The access token is malformed', 'invalid_token'),
  CRED_INVALID: spec(401, 'The access token is not valid', 'invalid_token'),
  CRED_UNSUPPORTED_ALG: spec(401, 'The access token algorithm is not accepted', 'invalid_token'),
  CRED_EXPIRED: spec(401, 'The access token has expired', 'invalid_token'),
  CRED_NOT_YET_VALID: spec(401, 'The access token is not yet valid', 'invalid_token'),
  CRED_WRONG_ISSUER: spec(401, 'The access token was issued by another issuer', 'invalid_token'),
  CRED_WRONG_AUDIENCE: spec(401, 'The access token is for another audience', 'invalid_token'),
  CRED_REVOKED: spec(401, 'The access token has been revoked', 'invalid_token'),
  CRED_NOT_DPOP_BOUND: spec(401, 'The access token is not sender-constrained', 'invalid_token'),

  // DPoP proofs (RFC 9449)
  DPOP_MISSING: spec(401, 'A DPoP proof is required', 'invalid_dpop_proof'),
  DPOP_INVALID: spec(401, 'The DPoP proof is not valid', 'invalid_dpop_proof'),
  DPOP_UNSUPPORTED_ALG: spec(401, 'The DPoP proof algorithm is not accepted', 'invalid_dpop_proof'),
  DPOP_METHOD_MISMATCH: spec(401, 'The DPoP proof is for another HTTP method', 'invalid_dpop_proof'),
  DPOP_URL_MISMATCH: spec(401, 'The DPoP proof is for another URL', 'invalid_dpop_proof'),
  DPOP_STALE: spec(401, 'The DPoP proof is outside its time window', 'invalid_dpop_proof', { retryable: true }),
  DPOP_REPLAY: spec(401, 'The DPoP proof was already used', 'invalid_dpop_proof'),
  DPOP_ATH_MISMATCH: spec(401, 'The DPoP proof is not bound to this access token', 'invalid_dpop_proof'),
  DPOP_KEY_MISMATCH: spec(401, 'The DPoP proof key is not the key the token is bound to', 'invalid_dpop_proof'),

  // Agent authentication at the token endpoint (RFC 7523)
  CLIENT_ASSERTION_INVALID: spec(401, 'The client assertion is not valid', 'invalid_client'),
  CLIENT_ASSERTION_REPLAY: spec(401, 'The client assertion was already used', 'invalid_client'),
  GRANT_UNSUPPORTED: spec(400, 'The grant type is not supported', 'unsupported_grant_type'),
  SUBJECT_TOKEN_INVALID: spec(400, 'The subject token is not valid', 'invalid_grant'),

  // Agents and tasks
  AGENT_NOT_FOUND: spec(404, 'No such agent', 'invalid_client'),
  AGENT_SUSPENDED: spec(403, 'The agent is suspended', 'invalid_client'),
  AGENT_RETIRED: spec(403, 'The agent is retired', 'invalid_client'),
  AGENT_RISK_PROHIBITED: spec(422, 'Agents of the unacceptable risk category cannot be registered'),
  AGENT_KEY_INVALID: spec(400, 'The agent key is not an accepted public key', 'invalid_request'),
  AGENT_KEY_LIMIT: spec(409, 'An agent may have at most two live keys; retire one first'),
  AGENT_KEY_LAST: spec(409, 'The last live key of an active agent cannot be retired'),
  TASK_NOT_FOUND: spec(404, 'No such task', 'invalid_grant'),
  TASK_ENDED: spec(401, 'The task has ended', 'invalid_grant'),
  SCOPE_EXCEEDED: spec(400, 'The requested capabilities exceed the agent profile', 'invalid_scope'),
  LIFETIME_EXCEEDED: spec(400, 'The requested task lifetime exceeds the agent maximum', 'invalid_request'),
  PERSON_NOT_FOUND: spec(404, 'No such person'),

  // Policy and approvals
  SCOPE_DENIED: spec(403, 'The call is outside the task scope', 'insufficient_scope'),
  POLICY_DENIED: spec(403, 'Denied by policy', 'access_denied'),
  POLICY_EVALUATION_FAILED: spec(403, 'The policies could not be evaluated; denied', 'access_denied'),
  POLICY_INVALID: spec(400, 'The policy set does not parse or validate'),
  APPROVAL_PENDING: spec(403, 'The call is held until people approve it', 'access_denied', { retryable: true }),
  APPROVAL_DENIED: spec(403, 'An approver denied the call', 'access_denied'),
  APPROVAL_EXPIRED: spec(403, 'The approval request expired', 'access_denied'),
  APPROVAL_NOT_FOUND: spec(404, 'No such approval'),
  APPROVAL_NOT_ELIGIBLE: spec(403, 'This person may not decide this approval'),
  APPROVAL_CLOSED: spec(409, 'The approval is no longer open'),
  APPROVAL_ALREADY_DECIDED: spec(409, 'This person already decided this approval'),

  // Gateway (MCP and HTTP front doors)
  TOOL_NOT_FOUND: spec(404, 'No such tool is offered to this task'),
  TOOL_WITHHELD: spec(409, 'The tool definition changed and awaits review by an admin'),
  TOOL_NOT_CHANGED: spec(409, 'The tool has no pending change with that digest'),
  MCP_SESSION_NOT_FOUND: spec(404, 'No such MCP session'),
  CALL_CANCELLED: spec(499, 'The agent cancelled the call'),
  BUDGET_EXCEEDED: spec(403, 'The task has used up its budget', 'access_denied'),
  RATE_LIMITED: spec(429, 'Too many requests from this agent', undefined, { retryable: true }),

  // Infrastructure
  STORE_UNAVAILABLE: spec(503, 'The store is unavailable', 'temporarily_unavailable', { retryable: true }),
  INTERNAL: spec(500, 'Internal error', 'server_error'),

  // Egress
  EGRESS_UPSTREAM_UNKNOWN: spec(404, 'No such upstream'),
  EGRESS_METHOD_NOT_ALLOWED: spec(405, 'The upstream does not allow this method'),
  EGRESS_PATH_NOT_ALLOWED: spec(403, 'The upstream does not allow this path'),
  EGRESS_ADDRESS_BLOCKED: spec(403, 'The upstream address is not allowed'),
  EGRESS_CREDENTIAL_UNAVAILABLE: spec(500, 'The upstream credential is not available'),
  EGRESS_REDIRECT_BLOCKED: spec(502, 'The upstream redirected outside itself'),
  // Upstreams (MCP servers and HTTP APIs alike)
  UPSTREAM_TIMEOUT: spec(504, 'The upstream did not answer in time', undefined, { retryable: true }),
  UPSTREAM_UNAVAILABLE: spec(502, 'The upstream could not be reached', undefined, { retryable: true }),
  UPSTREAM_RESPONSE_TOO_LARGE: spec(502, 'The upstream response is too large'),
  UPSTREAM_ERROR: spec(502, 'The upstream answered with an error'),
  UPSTREAM_UNKNOWN: spec(404, 'No such upstream'),
  // Sandboxes (stdio upstreams and exec, docs/sandbox.md)
  SANDBOX_UNAVAILABLE: spec(503, 'The sandbox cannot be built on this host; the upstream does not start'),
  SANDBOX_EGRESS_DENIED: spec(403, 'The sandbox may not reach this destination'),
  SANDBOX_EGRESS_UNATTRIBUTED: spec(403, 'No single task has a call in flight to this sandbox; its request is refused', undefined, { retryable: true }),
  EXEC_COMMAND_NOT_ALLOWED: spec(403, 'The command is not one the exec upstream runs'),
  // Secrets
  SECRET_NOT_FOUND: spec(404, 'No such secret'),
  SECRET_KEY_MISMATCH: spec(500, 'The secret was stored with another master key', 'server_error'),
  SECRET_TAMPERED: spec(500, 'The stored secret does not authenticate: it was changed or moved', 'server_error'),
  MASTER_KEY_INVALID: spec(500, 'The master key is not 32 bytes of base64 or base64url', 'server_error'),
  // Scanning
  SECRET_IN_ARGUMENTS: spec(403, 'An argument carries a credential, or could not be scanned; the call was refused', 'access_denied'),
  SECRET_IN_RESPONSE: spec(502, 'The response carried a credential, or could not be scanned, and was withheld'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}
