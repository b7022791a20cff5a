import type { EventRecord } from '../../domain/index.js';
import { describeEventType } from '../../events/event-types.js';
import { VERSION } from '../../version.js';
import { ENTRY_VERSION, leafOf, searchColumns } from '../entry.js';

// SPEC: OTLP/HTTP with the JSON Protobuf encoding (opentelemetry-proto docs/specification.md,
// "JSON Protobuf Encoding"): lowerCamelCase keys, enums as integers, 64-bit integers as decimal
// strings, trace/span ids as hex. Messages: opentelemetry/proto/logs/v1/logs.proto and
// collector/logs/v1/logs_service.proto (ExportLogsServiceRequest).

/** `AnyValue` in its JSON form; `{}` is the empty value (JSON `null` in the entry). */
export type OtlpAnyValue =
  | { readonly stringValue: string }
  | { readonly boolValue: boolean }
  /** int64: a decimal string, as the proto3 JSON mapping writes 64-bit integers. */
  | { readonly intValue: string }
  | { readonly doubleValue: number }
  | { readonly arrayValue: { readonly values: readonly OtlpAnyValue[] } }
  | { readonly kvlistValue: { readonly values: readonly OtlpKeyValue[] } }
  | Readonly<Record<string, never>>;

export interface OtlpKeyValue {
  readonly key: string;
  readonly value: OtlpAnyValue;
}

/** A `LogRecord` (logs.proto) in its JSON form. Warden has no trace context, so no traceId/spanId. */
export interface OtlpLogRecord {
  /** fixed64 nanoseconds since the epoch, as a decimal string. */
  readonly timeUnixNano: string;
  readonly observedTimeUnixNano: string;
  readonly severityNumber: number;
  readonly severityText: string;
  /** The dotted event type: the LogRecord field that replaced the deprecated `event.name` attribute. */
  readonly eventName: string;
  readonly body: OtlpAnyValue;
  readonly attributes: readonly OtlpKeyValue[];
}

export interface ExportLogsServiceRequest {
  readonly resourceLogs: readonly {
    readonly resource: { readonly attributes: readonly OtlpKeyValue[] };
    readonly scopeLogs: readonly {
      readonly scope: { readonly name: string; readonly version: string };
      readonly logRecords: readonly OtlpLogRecord[];
    }[];
  }[];
}

/** The instrumentation scope of every record; its version is the entry format's. */
export const OTLP_SCOPE = { name: 'warden.audit', version: String(ENTRY_VERSION) } as const;

/** SeverityNumber (logs.proto) and the matching short name (OTel Logs Data Model), by outcome. */
export const OTLP_SEVERITY = {
  success: { number: 9, text: 'INFO' },
  denied: { number: 13, text: 'WARN' },
  failure: { number: 17, text: 'ERROR' },
} as const;

/** Which entries are executions of a tool, for `gen_ai.operation.name = execute_tool`. */
const TOOL_EXECUTIONS: ReadonlySet<string> = new Set(['tool.call', 'tool.result']);

const str = (value: string): OtlpAnyValue => ({ stringValue: value });
const int = (value: number): OtlpAnyValue => ({ intValue: String(value) });
const strings = (values: readonly string[]): OtlpAnyValue => ({ arrayValue: { values: values.map(str) } });

/** Milliseconds since the epoch as fixed64 nanoseconds, exactly (no float rounding). */
function nanos(ms: number): string {
  return (BigInt(ms) * 1_000_000n).toString();
}

/** A JSON value (what an entry's `data` holds) as an AnyValue. */
export function anyValue(value: unknown): OtlpAnyValue {
  if (value === null || value === undefined) return {};
  if (typeof value === 'string') return str(value);
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isSafeInteger(value) ? int(value) : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(anyValue) } };
  if (typeof value === 'object') {
    return { kvlistValue: { values: Object.entries(value as Record<string, unknown>).map(([key, v]) => ({ key, value: anyValue(v) })) } };
  }
  // bigint, function, symbol: not in parsed JSON; said rather than dropped.
  return str(String(value));
}

export interface OtlpOptions {
  /** The leaf hash stored with the entry; computed from the entry when not given. */
  readonly leaf?: Uint8Array;
}

/**
 * An audit entry as an OpenTelemetry event (a LogRecord with `eventName`). Pure: the same
 * entry always gives the same record, so a re-shipped batch is byte-for-byte a duplicate.
 *
 * Semantic-convention attributes where one exists — `enduser.id` (the person), `gen_ai.agent.id`,
 * `gen_ai.tool.name`, `gen_ai.operation.name` (`execute_tool` on tool.call/tool.result),
 * `error.type` (the code) — and `warden.*` for the rest (docs/audit-export.md has the table).
 * `warden.leaf_hash` is the RFC 9162 leaf hash (hex) that ties the record to a Merkle proof.
 */
export function toOtlpLogRecord(event: EventRecord, opts: OtlpOptions = {}): OtlpLogRecord {
  const { chain, actor } = event;
  const links = searchColumns(event);
  const severity = OTLP_SEVERITY[event.outcome];
  const attributes: OtlpKeyValue[] = [];
  const add = (key: string, value: OtlpAnyValue | undefined): void => {
    if (value !== undefined) attributes.push({ key, value });
  };
  const addStr = (key: string, value: string | null | undefined): void => add(key, value === null || value === undefined ? undefined : str(value));

  addStr('enduser.id', links.person);
  addStr('gen_ai.agent.id', links.agent);
  addStr('gen_ai.tool.name', links.tool);
  if (TOOL_EXECUTIONS.has(event.type)) addStr('gen_ai.operation.name', 'execute_tool');
  addStr('error.type', event.error);
  addStr('warden.code', event.code);

  add('warden.seq', int(event.seq));
  addStr('warden.outcome', event.outcome);
  addStr('warden.actor.kind', actor.kind);
  addStr('warden.actor.id', actor.id);
  addStr('warden.subject', event.subject);
  addStr('warden.person.iss', chain?.person?.iss);
  addStr('warden.agent.key', chain?.agentKey);
  addStr('warden.task.id', links.task);
  if (chain?.approvals) add('warden.approvals', strings(chain.approvals));
  if (chain?.decision) {
    addStr('warden.decision.effect', chain.decision.effect);
    add('warden.decision.policies', strings(chain.decision.policies));
    addStr('warden.decision.revision', chain.decision.revision);
    if (chain.decision.errors) add('warden.decision.errors', strings(chain.decision.errors));
  }
  addStr('warden.args.digest', chain?.argsDigest);
  addStr('warden.result.digest', chain?.resultDigest);
  addStr('warden.leaf_hash', Buffer.from(opts.leaf ?? leafOf(event)).toString('hex'));
  add('warden.data', anyValue(event.data));

  const time = nanos(event.time);
  return {
    timeUnixNano: time,
    // Warden is where the event originates, so it is observed when it is recorded (logs.proto).
    observedTimeUnixNano: time,
    severityNumber: severity.number,
    severityText: severity.text,
    eventName: event.type,
    body: str(describeEventType(event.type)),
    attributes,
  };
}

export interface OtlpResourceOptions {
  /** `service.version`; Warden's own version by default. */
  readonly serviceVersion?: string;
  /** More resource attributes, e.g. `deployment.environment.name`. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** The body of one OTLP/HTTP export (`POST /v1/logs`): one resource, one scope, `records` in order. */
export function otlpRequest(records: readonly OtlpLogRecord[], opts: OtlpResourceOptions = {}): ExportLogsServiceRequest {
  const extra = Object.entries(opts.attributes ?? {}).filter(([key]) => key !== 'service.name' && key !== 'service.version');
  return {
    resourceLogs: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: str('warden') },
            { key: 'service.version', value: str(opts.serviceVersion ?? VERSION) },
            ...extra.map(([key, value]) => ({ key, value: str(value) })),
          ],
        },
        scopeLogs: [{ scope: OTLP_SCOPE, logRecords: records }],
      },
    ],
  };
}
