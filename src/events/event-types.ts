/**
 * Every event type Warden records, registered in one place, each with a stable number. A type
 * not listed here cannot be recorded (`EventLog.record` rejects it, and the OCSF mapping does not
 * compile without it); tests check that numbers are unique and that each type is documented.
 * Numbers are never reused or changed: SIEM rules key on them.
 */
export const EVENT_TYPES = {
  'admin.bootstrap': { code: 1000, description: 'The first admin person and API key were created' },
  'person.create': { code: 1001, description: 'A person account was created' },
  'agent.register': { code: 1100, description: 'An agent identity was registered' },
  'agent.suspend': { code: 1101, description: 'An agent was suspended: its tokens stop working at once' },
  'agent.resume': { code: 1102, description: 'A suspended agent was resumed' },
  'agent.retire': { code: 1103, description: 'An agent was retired for good (kept for history)' },
  'agent.key_add': { code: 1104, description: 'A public key was added to an agent (rotation)' },
  'agent.key_retire': { code: 1105, description: 'An agent key was retired: tokens bound to it stop working' },
  'task.grant': { code: 2000, description: 'A task was granted to an agent' },
  'task.deny': { code: 2001, description: 'A task request was refused' },
  'task.complete': { code: 2002, description: 'An agent ended its task' },
  'task.revoke': { code: 2003, description: 'A task was revoked: its tokens stop working at once' },
  'credential.issue': { code: 2100, description: 'An access token was issued' },
  'credential.deny': { code: 2101, description: 'A token request from an identified agent was refused' },
  'credential.revoke': { code: 2102, description: 'One access token was revoked' },
  'signing_key.rotate': { code: 2103, description: 'Warden started signing with a new key' },
  'policy.decide': { code: 3000, description: 'A policy decision: allow, deny, held for approval, or could not evaluate' },
  'policy.reload': { code: 3001, description: 'A new policy set took over' },
  'policy.reload_fail': { code: 3002, description: 'A policy set failed to load; the previous one keeps deciding' },
  'approval.request': { code: 3100, description: 'A call was held for human approval' },
  'approval.decide': { code: 3101, description: 'One approver approved or denied a held call' },
  'approval.resolve': { code: 3102, description: 'An approval reached its outcome: approved, denied or expired' },
  'approval.consume': { code: 3103, description: 'An approved call went through (once per approval)' },
  'webhook.fail': { code: 3104, description: 'A webhook could not be delivered after its retries' },
  'tool.pin': { code: 4000, description: 'An upstream tool was seen for the first time and its definition pinned' },
  'tool.change': { code: 4001, description: 'An upstream changed a pinned tool definition; the tool is withheld until accepted' },
  'tool.accept': { code: 4002, description: 'An admin accepted a changed tool definition' },
  'tool.call': { code: 4003, description: 'A tool call or HTTP request is about to leave Warden (intent, written before forwarding)' },
  'tool.result': { code: 4004, description: 'The outcome of a forwarded call: result digest, bytes, latency, redactions' },
  'tool.deny': { code: 4005, description: 'A call was refused before it was forwarded (limits, secrets in arguments, unknown tool)' },
  'upstream.fail': { code: 4006, description: 'An upstream MCP server failed to start or died' },
  'upstream.start': { code: 4007, description: 'An upstream MCP server started: in its sandbox (with its limits) or, explicitly configured so, unsandboxed' },
  'secret.set': { code: 5000, description: 'A secret got a new version; its earlier versions stopped being live (name and version only, never the value)' },
  'secret.rotate': { code: 5001, description: 'A secret got a new version; the previous one stays live until the overlap ends (name and version only, never the value)' },
  'warden.start': { code: 6000, description: 'Warden started: its version, the digest of its configuration, its store' },
  'audit.archive': { code: 6001, description: 'Entries below a signed checkpoint were archived out of the database (retention)' },
  'sandbox.exec': { code: 7000, description: 'A command an agent asked for ran in a sandbox: its exact argv, exit code and the digests of its output' },
  'sandbox.limit': { code: 7001, description: 'A sandbox hit a resource limit (memory, process count or wall time) and was killed' },
  'sandbox.egress': { code: 7002, description: 'A request from inside a sandbox was refused before any policy (undeclared destination, tunnel, no task to attribute it to)' },
} as const;

export type EventType = keyof typeof EVENT_TYPES;

const SEVERITY = { success: 'I', denied: 'W', failure: 'E' } as const;

/**
 * The stable code of an entry (Teleport style): `W` + the type's number + `I` (success), `W`
 * (denied) or `E` (failure), e.g. `W4003I` for a tool call let through.
 */
export function eventCode(type: string, outcome: keyof typeof SEVERITY): string {
  if (!Object.hasOwn(EVENT_TYPES, type)) throw new TypeError(`unregistered event type ${type}`);
  return `W${EVENT_TYPES[type as EventType].code}${SEVERITY[outcome]}`;
}

/** What an event type means, for people (and SIEM messages). */
export function describeEventType(type: string): string {
  return Object.hasOwn(EVENT_TYPES, type) ? EVENT_TYPES[type as EventType].description : type;
}
