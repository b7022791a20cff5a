/**
 * Every event type Warden records, registered in one place. A type not listed here cannot be
 * recorded (`EventLog.record` rejects it), and a test checks that each is documented.
 */
export const EVENT_TYPES = {
  'admin.bootstrap': 'The first admin person and API key were created',
  'person.create': 'A person account was created',
  'agent.register': 'An agent identity was registered',
  'agent.suspend': 'An agent was suspended: its tokens stop working at once',
  'agent.resume': 'A suspended agent was resumed',
  'agent.retire': 'An agent was retired for good (kept for history)',
  'agent.key_add': 'A public key was added to an agent (rotation)',
  'agent.key_retire': 'An agent key was retired: tokens bound to it stop working',
  'task.grant': 'A task was granted to an agent',
  'task.deny': 'A task request was refused',
  'task.complete': 'An agent ended its task',
  'task.revoke': 'A task was revoked: its tokens stop working at once',
  'credential.issue': 'An access token was issued',
  'credential.deny': 'A token request from an identified agent was refused',
  'credential.revoke': 'One access token was revoked',
  'signing_key.rotate': 'Warden started signing with a new key',
  'policy.decide': 'A policy decision: allow, deny, held for approval, or could not evaluate',
  'policy.reload': 'A new policy set took over',
  'policy.reload_fail': 'A policy set failed to load; the previous one keeps deciding',
  'approval.request': 'A call was held for human approval',
  'approval.decide': 'One approver approved or denied a held call',
  'approval.resolve': 'An approval reached its outcome: approved, denied or expired',
  'approval.consume': 'An approved call went through (once per approval)',
  'webhook.fail': 'A webhook could not be delivered after its retries',
  'tool.pin': 'An upstream tool was seen for the first time and its definition pinned',
  'tool.change': 'An upstream changed a pinned tool definition; the tool is withheld until accepted',
  'tool.accept': 'An admin accepted a changed tool definition',
  'tool.call': 'A tool call or HTTP request is about to leave Warden (intent, written before forwarding)',
  'tool.result': 'The outcome of a forwarded call: result digest, bytes, latency, redactions',
  'tool.deny': 'A call was refused before it was forwarded (limits, secrets in arguments, unknown tool)',
  'upstream.fail': 'An upstream MCP server failed to start or died',
  'secret.set': 'A secret got a new version; its earlier versions stopped being live (name and version only, never the value)',
  'secret.rotate': 'A secret got a new version; the previous one stays live until the overlap ends (name and version only, never the value)',
  'warden.start': 'Warden started: its version, the digest of its configuration, its store',
  'audit.archive': 'Entries below a signed checkpoint were archived out of the database (retention)',
} as const;

export type EventType = keyof typeof EVENT_TYPES;
