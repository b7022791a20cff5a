import type { EventType } from '../../events/event-types.js';

// SPEC: OCSF 1.3.0 (https://schema.ocsf.io/1.3.0/). type_uid = class_uid * 100 + activity_id.

/** The OCSF version the events claim in `metadata.version`. */
export const OCSF_VERSION = '1.3.0';

/** The event classes Warden maps to, with the activities it uses. */
export const OCSF_CLASSES = {
  3001: { name: 'Account Change', category: 3, activities: { 1: 'Create', 2: 'Enable', 5: 'Disable', 6: 'Delete' } },
  3002: { name: 'Authentication', category: 3, activities: { 1: 'Logon' } },
  6003: { name: 'API Activity', category: 6, activities: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' } },
} as const;
export type OcsfClassUid = keyof typeof OCSF_CLASSES;

export const OCSF_CATEGORIES = { 3: 'Identity & Access Management', 6: 'Application Activity' } as const;

/**
 * What an entry's `subject` names, per type (from the recorders): it becomes the `user` of
 * Account Change, the `session` of an Authentication logon, or a resource of API Activity.
 * Absent where it varies (policy.decide names a task or an agent).
 */
export type SubjectKind = 'person' | 'admin' | 'agent' | 'task' | 'access_token' | 'signing_key' | 'policy_set' | 'approval' | 'tool' | 'upstream' | 'secret';

interface Mapping {
  readonly class: OcsfClassUid;
  readonly activity: number;
  readonly subject?: SubjectKind;
}

/**
 * Every event type's OCSF class and activity (docs/audit-export.md has this table; a test
 * keeps the two equal). Identity lifecycle goes to Account Change (agents are non-human
 * accounts), token issuance to Authentication (an OAuth 2.0 logon of the agent), everything
 * else to API Activity. Revocations and retirements map to Delete: they remove access, even
 * though the record is kept. A tool call's effect upstream is unknown to Warden (read or
 * write), so tool.* calls are Other, with the dotted type as `activity_name`.
 */
export const OCSF_MAPPING = {
  'admin.bootstrap': { class: 3001, activity: 1, subject: 'admin' },
  'person.create': { class: 3001, activity: 1, subject: 'person' },
  'agent.register': { class: 3001, activity: 1, subject: 'agent' },
  'agent.suspend': { class: 3001, activity: 5, subject: 'agent' },
  'agent.resume': { class: 3001, activity: 2, subject: 'agent' },
  'agent.retire': { class: 3001, activity: 6, subject: 'agent' },
  'agent.key_add': { class: 6003, activity: 1, subject: 'agent' },
  'agent.key_retire': { class: 6003, activity: 4, subject: 'agent' },
  'task.grant': { class: 6003, activity: 1, subject: 'task' },
  'task.deny': { class: 6003, activity: 1, subject: 'agent' },
  'task.complete': { class: 6003, activity: 3, subject: 'task' },
  'task.revoke': { class: 6003, activity: 4, subject: 'task' },
  'credential.issue': { class: 3002, activity: 1, subject: 'access_token' },
  'credential.deny': { class: 3002, activity: 1, subject: 'agent' },
  'credential.revoke': { class: 6003, activity: 4, subject: 'access_token' },
  'signing_key.rotate': { class: 6003, activity: 1, subject: 'signing_key' },
  'policy.decide': { class: 6003, activity: 99 },
  'policy.reload': { class: 6003, activity: 3, subject: 'policy_set' },
  'policy.reload_fail': { class: 6003, activity: 3, subject: 'policy_set' },
  'approval.request': { class: 6003, activity: 1, subject: 'approval' },
  'approval.decide': { class: 6003, activity: 3, subject: 'approval' },
  'approval.resolve': { class: 6003, activity: 3, subject: 'approval' },
  'approval.consume': { class: 6003, activity: 3, subject: 'approval' },
  'webhook.fail': { class: 6003, activity: 99, subject: 'approval' },
  'tool.pin': { class: 6003, activity: 1, subject: 'tool' },
  'tool.change': { class: 6003, activity: 3, subject: 'tool' },
  'tool.accept': { class: 6003, activity: 3, subject: 'tool' },
  'tool.call': { class: 6003, activity: 99, subject: 'task' },
  'tool.result': { class: 6003, activity: 99, subject: 'task' },
  'tool.deny': { class: 6003, activity: 99, subject: 'task' },
  'upstream.fail': { class: 6003, activity: 99, subject: 'upstream' },
  'upstream.start': { class: 6003, activity: 99, subject: 'upstream' },
  'secret.set': { class: 6003, activity: 3, subject: 'secret' },
  'secret.rotate': { class: 6003, activity: 3, subject: 'secret' },
  'warden.start': { class: 6003, activity: 99 },
  'audit.archive': { class: 6003, activity: 4 },
  'sandbox.exec': { class: 6003, activity: 99, subject: 'task' },
  'sandbox.limit': { class: 6003, activity: 99, subject: 'upstream' },
  'sandbox.egress': { class: 6003, activity: 99, subject: 'upstream' },
} as const satisfies Record<EventType, Mapping>;

/** The mapping of `type`; a type this build does not know is API Activity: Other. */
export function ocsfMappingOf(type: string): Mapping {
  return Object.hasOwn(OCSF_MAPPING, type) ? OCSF_MAPPING[type as EventType] : { class: 6003, activity: 99 };
}

/** The activity's caption; for Other, the dotted type (OCSF: "a data source specific value"). */
export function activityName(mapping: Mapping, type: string): string {
  if (mapping.activity === 99) return type;
  const names: Readonly<Record<number, string>> = OCSF_CLASSES[mapping.class].activities;
  return names[mapping.activity] ?? type;
}
