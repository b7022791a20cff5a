import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AGENT, APPROVAL, APPROVER, ARGS, ISS, JTI, PERSON, T0, TASK, approvalDecide, credentialIssue, toolCall, toolResultFailure } from '../../../test/support/audit-samples.js';
import { EVENT_TYPES } from '../../events/event-types.js';
import { VERSION } from '../../version.js';
import { sealEntry } from '../entry.js';
import { anyValue, otlpRequest, toOtlpLogRecord, type OtlpAnyValue, type OtlpLogRecord } from './otlp.js';

const attributes = (r: OtlpLogRecord): Record<string, OtlpAnyValue> => Object.fromEntries(r.attributes.map((a) => [a.key, a.value]));
const s = (stringValue: string) => ({ stringValue });
const leafHex = (e: Parameters<typeof sealEntry>[0]) => sealEntry(e).leaf.toString('hex');

describe('toOtlpLogRecord', () => {
  it('maps an allowed tool.call to an INFO event with semantic-convention and warden.* attributes', () => {
    const r = toOtlpLogRecord(toolCall);
    assert.equal(r.timeUnixNano, `${T0}000000`);
    assert.equal(r.observedTimeUnixNano, `${T0}000000`);
    assert.equal(r.severityNumber, 9);
    assert.equal(r.severityText, 'INFO');
    assert.equal(r.eventName, 'tool.call');
    assert.deepEqual(r.body, s(EVENT_TYPES['tool.call'].description));
    const a = attributes(r);
    assert.deepEqual(a['enduser.id'], s(PERSON));
    assert.deepEqual(a['gen_ai.agent.id'], s(AGENT));
    assert.deepEqual(a['gen_ai.tool.name'], s('github.create_issue'));
    assert.deepEqual(a['gen_ai.operation.name'], s('execute_tool'));
    assert.equal(a['error.type'], undefined);
    assert.deepEqual(a['warden.seq'], { intValue: '41' });
    assert.deepEqual(a['warden.outcome'], s('success'));
    assert.deepEqual(a['warden.actor.kind'], s('agent'));
    assert.deepEqual(a['warden.actor.id'], s(AGENT));
    assert.deepEqual(a['warden.subject'], s(TASK));
    assert.deepEqual(a['warden.person.iss'], s(ISS));
    assert.deepEqual(a['warden.agent.key'], s('jkt-of-the-agent-key'));
    assert.deepEqual(a['warden.task.id'], s(TASK));
    assert.deepEqual(a['warden.decision.effect'], s('allow'));
    assert.deepEqual(a['warden.decision.policies'], { arrayValue: { values: [s('allow-github'), s('baseline')] } });
    assert.deepEqual(a['warden.decision.revision'], s('rev-7'));
    assert.deepEqual(a['warden.args.digest'], s(ARGS));
    assert.equal(a['warden.result.digest'], undefined);
    assert.deepEqual(a['warden.leaf_hash'], s(leafHex(toolCall)));
    assert.deepEqual(a['warden.data'], {
      kvlistValue: {
        values: [
          { key: 'via', value: s('mcp') },
          { key: 'bytesOut', value: { intValue: '120' } },
          { key: 'ratio', value: { doubleValue: 0.5 } },
          { key: 'flags', value: { arrayValue: { values: [{ boolValue: true }, {}] } } },
          { key: 'request', value: { kvlistValue: { values: [{ key: 'upstream', value: s('github') }] } } },
        ],
      },
    });
    assert.equal(Object.keys(a).length, r.attributes.length, 'attribute keys are unique (logs.proto)');
  });

  it('maps a failed tool.result to an ERROR event whose error.type is the code', () => {
    const r = toOtlpLogRecord(toolResultFailure);
    assert.equal(r.severityNumber, 17);
    assert.equal(r.severityText, 'ERROR');
    assert.equal(r.eventName, 'tool.result');
    assert.equal(r.timeUnixNano, `${T0 + 250}000000`);
    const a = attributes(r);
    assert.deepEqual(a['error.type'], s('UPSTREAM_TIMEOUT'));
    assert.deepEqual(a['warden.outcome'], s('failure'));
    assert.deepEqual(a['gen_ai.operation.name'], s('execute_tool'));
    assert.equal(a['enduser.id'], undefined, 'no person in the chain, none made up');
    assert.equal(a['warden.decision.effect'], undefined);
    assert.deepEqual(a['warden.data'], {
      kvlistValue: { values: [{ key: 'via', value: s('mcp') }, { key: 'intent', value: { intValue: '41' } }, { key: 'latencyMs', value: { intValue: '30000' } }] },
    });
  });

  it('maps credential.issue with the agent and task, and no tool operation', () => {
    const a = attributes(toOtlpLogRecord(credentialIssue));
    assert.deepEqual(a['gen_ai.agent.id'], s(AGENT));
    assert.deepEqual(a['warden.task.id'], s(TASK));
    assert.deepEqual(a['warden.subject'], s(JTI));
    assert.equal(a['gen_ai.operation.name'], undefined);
    assert.equal(a['gen_ai.tool.name'], undefined);
    assert.deepEqual(a['warden.seq'], { intValue: '7' });
  });

  it('maps approval.decide by a person: the on-behalf person is enduser.id, the approver the actor', () => {
    const r = toOtlpLogRecord(approvalDecide);
    assert.equal(r.severityText, 'INFO');
    const a = attributes(r);
    assert.deepEqual(a['enduser.id'], s(PERSON));
    assert.deepEqual(a['warden.actor.kind'], s('person'));
    assert.deepEqual(a['warden.actor.id'], s(APPROVER));
    assert.deepEqual(a['warden.approvals'], { arrayValue: { values: [s(APPROVAL)] } });
    assert.deepEqual(a['gen_ai.tool.name'], s('bank.transfer'));
    assert.equal(a['gen_ai.operation.name'], undefined);
  });

  it('maps a denial to WARN', () => {
    const r = toOtlpLogRecord({ ...toolCall, type: 'tool.deny', outcome: 'denied', code: 'W4005W', error: 'BUDGET_EXCEEDED' });
    assert.equal(r.severityNumber, 13);
    assert.equal(r.severityText, 'WARN');
    assert.deepEqual(attributes(r)['error.type'], s('BUDGET_EXCEEDED'));
  });

  it('uses the stored leaf hash when given, so the record names the leaf the tree holds', () => {
    const leaf = Buffer.alloc(32, 0xab);
    assert.deepEqual(attributes(toOtlpLogRecord(toolCall, { leaf }))['warden.leaf_hash'], s('ab'.repeat(32)));
  });

  it('is deterministic: the same entry gives the same JSON', () => {
    assert.equal(JSON.stringify(toOtlpLogRecord(toolCall)), JSON.stringify(toOtlpLogRecord(structuredClone(toolCall))));
  });

  it('uses the type itself as body for a type this build does not register', () => {
    assert.deepEqual(toOtlpLogRecord({ ...credentialIssue, type: 'future.thing' }).body, s('future.thing'));
  });
});

describe('OTLP JSON encoding', () => {
  const body = JSON.parse(JSON.stringify(otlpRequest([toOtlpLogRecord(toolCall), toOtlpLogRecord(toolResultFailure)]))) as Record<string, unknown>;

  /** Every object key in `value`, recursively (attribute keys are values, not keys). */
  function keysOf(value: unknown, out: string[] = []): string[] {
    if (Array.isArray(value)) value.forEach((v) => keysOf(v, out));
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        out.push(k);
        keysOf(v, out);
      }
    }
    return out;
  }

  it('writes lowerCamelCase field names, never the proto snake_case', () => {
    const bad = keysOf(body).filter((k) => !/^[a-z][A-Za-z]*$/.test(k));
    assert.deepEqual(bad, []);
  });

  it('writes fixed64 times and int64 values as decimal strings, exactly', () => {
    const record = toOtlpLogRecord({ ...toolCall, time: 4_102_444_800_999 });
    assert.equal(record.timeUnixNano, '4102444800999000000');
    assert.equal(typeof record.observedTimeUnixNano, 'string');
    assert.deepEqual(attributes(record)['warden.seq'], { intValue: '41' });
    assert.deepEqual(anyValue(2 ** 53 - 1), { intValue: '9007199254740991' });
    assert.deepEqual(anyValue(2 ** 53), { doubleValue: 2 ** 53 }, 'past the safe range the value is already a float');
  });

  it('writes severityNumber as an integer, not the enum name', () => {
    const records = (body.resourceLogs as { scopeLogs: { logRecords: { severityNumber: unknown }[] }[] }[])[0]!.scopeLogs[0]!.logRecords;
    assert.deepEqual(
      records.map((r) => r.severityNumber),
      [9, 17],
    );
  });

  it('sets no traceId or spanId: Warden has no trace context to give', () => {
    assert.ok(!keysOf(body).some((k) => k === 'traceId' || k === 'spanId'));
  });

  it('builds one resource with service.name and service.version, one scope, the records in order', () => {
    const req = otlpRequest([toOtlpLogRecord(toolCall), toOtlpLogRecord(toolResultFailure)], { attributes: { 'deployment.environment.name': 'prod', 'service.name': 'ignored' } });
    assert.equal(req.resourceLogs.length, 1);
    assert.deepEqual(req.resourceLogs[0]!.resource.attributes, [
      { key: 'service.name', value: s('warden') },
      { key: 'service.version', value: s(VERSION) },
      { key: 'deployment.environment.name', value: s('prod') },
    ]);
    assert.deepEqual(req.resourceLogs[0]!.scopeLogs[0]!.scope, { name: 'warden.audit', version: '1' });
    assert.deepEqual(
      req.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => r.eventName),
      ['tool.call', 'tool.result'],
    );
  });
});
