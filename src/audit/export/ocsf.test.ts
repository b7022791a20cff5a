import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AGENT, APPROVAL, APPROVER, JTI, PERSON, T0, TASK, approvalDecide, credentialIssue, toolCall, toolResultFailure } from '../../../test/support/audit-samples.js';
import { EVENT_TYPES, eventCode, type EventType } from '../../events/event-types.js';
import { VERSION } from '../../version.js';
import { sealEntry } from '../entry.js';
import { OCSF_CLASSES } from './ocsf-mapping.js';
import { OCSF_MAPPING, toOcsf } from './ocsf.js';

const leafHex = (e: Parameters<typeof sealEntry>[0]) => sealEntry(e).leaf.toString('hex');
const metadata = (seq: number, code: string, task?: string) => ({
  version: '1.3.0',
  product: { name: 'Warden', vendor_name: 'Warden', version: VERSION },
  uid: String(seq),
  sequence: seq,
  event_code: code,
  log_name: 'audit',
  ...(task ? { correlation_uid: task } : {}),
});

describe('toOcsf', () => {
  it('maps an allowed tool.call to API Activity: Other, with the decision as authorizations', () => {
    assert.deepEqual(toOcsf(toolCall), {
      class_uid: 6003,
      class_name: 'API Activity',
      category_uid: 6,
      category_name: 'Application Activity',
      activity_id: 99,
      activity_name: 'tool.call',
      type_uid: 600399,
      type_name: 'API Activity: tool.call',
      time: T0,
      severity_id: 1,
      severity: 'Informational',
      status_id: 1,
      status: 'Success',
      message: EVENT_TYPES['tool.call'].description,
      metadata: metadata(41, 'W4003I', TASK),
      actor: {
        user: { uid: PERSON, type_id: 1, type: 'User' },
        app_name: AGENT,
        app_uid: AGENT,
        authorizations: [
          { decision: 'allow', policy: { uid: 'allow-github', name: 'allow-github', version: 'rev-7' } },
          { decision: 'allow', policy: { uid: 'baseline', name: 'baseline', version: 'rev-7' } },
        ],
      },
      api: { operation: 'tool.call' },
      src_endpoint: { name: AGENT },
      resources: [
        { type: 'task', uid: TASK },
        { type: 'tool', uid: 'github.create_issue', name: 'github.create_issue' },
      ],
      unmapped: {
        entry_version: 1,
        leaf_hash: leafHex(toolCall),
        outcome: 'success',
        actor: toolCall.actor,
        subject: TASK,
        chain: toolCall.chain,
        data: toolCall.data,
      },
    });
  });

  it('maps a failed tool.result to status Failure with the code as status_code', () => {
    const e = toOcsf(toolResultFailure);
    assert.equal(e.class_uid, 6003);
    assert.equal(e.type_uid, 600399);
    assert.equal(e.status_id, 2);
    assert.equal(e.status, 'Failure');
    assert.equal(e.status_code, 'UPSTREAM_TIMEOUT');
    assert.equal(e.status_detail, 'failure');
    assert.equal(e.severity_id, 3);
    assert.equal(e.severity, 'Medium');
    assert.equal(e.time, T0 + 250);
    assert.deepEqual(e.actor, { app_name: AGENT, app_uid: AGENT });
    assert.deepEqual(e.metadata, metadata(42, 'W4004E', TASK));
  });

  it('maps credential.issue to an Authentication logon of the agent over OAuth 2.0', () => {
    const e = toOcsf(credentialIssue);
    assert.equal(e.class_uid, 3002);
    assert.equal(e.class_name, 'Authentication');
    assert.equal(e.category_uid, 3);
    assert.equal(e.category_name, 'Identity & Access Management');
    assert.equal(e.activity_id, 1);
    assert.equal(e.activity_name, 'Logon');
    assert.equal(e.type_uid, 300201);
    assert.equal(e.type_name, 'Authentication: Logon');
    assert.deepEqual(e.user, { uid: AGENT, type_id: 99, type: 'Agent' });
    assert.deepEqual(e.service, { name: 'Warden' });
    assert.equal(e.auth_protocol_id, 6);
    assert.equal(e.auth_protocol, 'OAUTH 2.0');
    assert.deepEqual(e.session, { uid: JTI });
    assert.deepEqual(e.actor, { app_name: AGENT, app_uid: AGENT });
    assert.equal(e.api, undefined);
    assert.equal(e.status_code, undefined);
  });

  it('maps a refused token request to a failed logon with its code', () => {
    const e = toOcsf({ ...credentialIssue, type: 'credential.deny', outcome: 'denied', code: 'W2101W', error: 'AUTH_INVALID', subject: AGENT, chain: undefined });
    assert.equal(e.type_uid, 300201);
    assert.equal(e.status_id, 2);
    assert.equal(e.status_code, 'AUTH_INVALID');
    assert.equal(e.severity_id, 2);
    assert.deepEqual(e.user, { uid: AGENT, type_id: 99, type: 'Agent' });
    assert.equal(e.session, undefined);
  });

  it('maps approval.decide by a person: the approver is actor.user, the approval a resource', () => {
    const e = toOcsf(approvalDecide);
    assert.equal(e.type_uid, 600303);
    assert.equal(e.activity_name, 'Update');
    assert.deepEqual(e.actor, { user: { uid: APPROVER, type_id: 1, type: 'User' } });
    assert.deepEqual(e.src_endpoint, { name: APPROVER });
    assert.deepEqual(e.resources, [
      { type: 'task', uid: TASK },
      { type: 'tool', uid: 'bank.transfer', name: 'bank.transfer' },
      { type: 'approval', uid: APPROVAL },
    ]);
    assert.deepEqual((e.unmapped as { chain: unknown }).chain, approvalDecide.chain);
  });

  it('maps agent lifecycle to Account Change of the agent account', () => {
    const e = toOcsf({ seq: 3, time: T0, type: 'agent.suspend', code: 'W1101I', outcome: 'success', actor: { kind: 'system', id: 'warden' }, subject: AGENT, data: { reason: 'anomaly' } });
    assert.equal(e.type_uid, 300105);
    assert.equal(e.type_name, 'Account Change: Disable');
    assert.deepEqual(e.user, { uid: AGENT, type_id: 99, type: 'Agent' });
    assert.deepEqual(e.actor, { app_name: 'Warden', app_uid: 'warden' });
    assert.equal(e.metadata.correlation_uid, undefined);
  });

  it('maps every registered type to a class and an activity that class has', () => {
    for (const [type, m] of Object.entries(OCSF_MAPPING) as [EventType, (typeof OCSF_MAPPING)[EventType]][]) {
      const activities: Record<number, string> = OCSF_CLASSES[m.class].activities;
      assert.ok(activities[m.activity], `${type}: class ${m.class} has no activity ${m.activity}`);
      const e = toOcsf({ seq: 1, time: T0, type, code: eventCode(type, 'success'), outcome: 'success', actor: { kind: 'person', id: PERSON }, subject: 'x', data: {} });
      assert.equal(e.type_uid, e.class_uid * 100 + e.activity_id, type);
    }
    assert.deepEqual(Object.keys(OCSF_MAPPING).sort(), Object.keys(EVENT_TYPES).sort());
  });

  it('maps a type this build does not know to API Activity: Other', () => {
    const e = toOcsf({ ...credentialIssue, type: 'future.thing' });
    assert.equal(e.type_uid, 600399);
    assert.equal(e.activity_name, 'future.thing');
  });
});

describe('docs/audit-export.md', () => {
  /** Rows `| \`type\` | class_uid … | activity_id … |` of the OCSF table. */
  function documented(): Map<string, { cls: number; activity: number }> {
    // dist/src/audit/export/ → repository root.
    const text = readFileSync(new URL('../../../../docs/audit-export.md', import.meta.url), 'utf8');
    const rows = new Map<string, { cls: number; activity: number }>();
    for (const line of text.split('\n')) {
      const m = /^\|\s*`([a-z_.]+)`\s*\|\s*(\d{4})\b[^|]*\|\s*(\d+)\b/.exec(line);
      if (m) rows.set(m[1]!, { cls: Number(m[2]), activity: Number(m[3]) });
    }
    return rows;
  }

  it('lists every type with the class and activity the code maps it to', () => {
    const docs = documented();
    const code = new Map(Object.entries(OCSF_MAPPING).map(([type, m]) => [type, { cls: m.class, activity: m.activity }]));
    assert.deepEqual(docs, code);
  });
});
