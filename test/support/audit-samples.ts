/** Representative audit entries for the export mappings and the shipper. */
import type { EventInput, EventRecord } from '../../src/domain/index.js';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0, 123);

export const AGENT = 'agt_0123456789abcdefghijklmn';
export const TASK = 'tsk_0123456789abcdefghijklmn';
export const PERSON = 'prs_0123456789abcdefghijklmn';
export const APPROVER = 'prs_abcdefghijklmn0123456789';
export const APPROVAL = 'apr_0123456789abcdefghijklmn';
export const JTI = 'tok_0123456789abcdefghijklmn';
export const ISS = 'https://idp.example.com';
export const ARGS = 'ZmFrZS1hcmdzLWRpZ2VzdC1mb3ItdGVzdHMtb25seS0wMQ';
export const RESULT = 'ZmFrZS1yZXN1bHQtZGlnZXN0LWZvci10ZXN0cy1vbmx5MDE';

/** An allowed MCP call about to leave, on behalf of a person. */
export const toolCall: EventRecord = {
  seq: 41,
  time: T0,
  type: 'tool.call',
  code: 'W4003I',
  outcome: 'success',
  actor: { kind: 'agent', id: AGENT },
  subject: TASK,
  chain: {
    person: { sub: PERSON, iss: ISS },
    agent: AGENT,
    agentKey: 'jkt-of-the-agent-key',
    task: TASK,
    tool: 'github.create_issue',
    decision: { effect: 'allow', policies: ['allow-github', 'baseline'], revision: 'rev-7' },
    argsDigest: ARGS,
  },
  data: { via: 'mcp', bytesOut: 120, ratio: 0.5, flags: [true, null], request: { upstream: 'github' } },
};

/** A forwarded call that failed upstream. */
export const toolResultFailure: EventRecord = {
  seq: 42,
  time: T0 + 250,
  type: 'tool.result',
  code: 'W4004E',
  outcome: 'failure',
  error: 'UPSTREAM_TIMEOUT',
  actor: { kind: 'agent', id: AGENT },
  subject: TASK,
  chain: { agent: AGENT, task: TASK, tool: 'github.create_issue', argsDigest: ARGS },
  data: { via: 'mcp', intent: 41, latencyMs: 30000 },
};

/** A token issued to an agent for its task. */
export const credentialIssue: EventRecord = {
  seq: 7,
  time: T0 - 60_000,
  type: 'credential.issue',
  code: 'W2100I',
  outcome: 'success',
  actor: { kind: 'agent', id: AGENT },
  subject: JTI,
  chain: { agent: AGENT, task: TASK },
  data: { exp: 1767269700, jkt: 'jkt-of-the-agent-key' },
};

/** A person approving a held call made on behalf of another person. */
export const approvalDecide: EventRecord = {
  seq: 40,
  time: T0 - 1000,
  type: 'approval.decide',
  code: 'W3101I',
  outcome: 'success',
  actor: { kind: 'person', id: APPROVER },
  subject: APPROVAL,
  chain: { person: { sub: PERSON, iss: ISS }, approvals: [APPROVAL], agent: AGENT, task: TASK, tool: 'bank.transfer', argsDigest: ARGS },
  data: { decision: 'approve', comment: null, status: 'approved' },
};

/** `n` plain entries to append, each a little different. */
export function drafts(n: number, from = 0): EventInput[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'agent.key_add',
    outcome: 'success' as const,
    actor: { kind: 'person' as const, id: PERSON },
    subject: AGENT,
    data: { n: from + i },
  }));
}
