import type { Chain, EventRecord } from '../../domain/index.js';
import { describeEventType } from '../../events/event-types.js';
import { VERSION } from '../../version.js';
import { ENTRY_VERSION, leafOf, searchColumns } from '../entry.js';
import { OCSF_CATEGORIES, OCSF_CLASSES, OCSF_VERSION, activityName, ocsfMappingOf, type SubjectKind } from './ocsf-mapping.js';

export { OCSF_MAPPING, OCSF_VERSION } from './ocsf-mapping.js';

/** An OCSF event as JSON: the classification fields are always there, the rest by class. */
export interface OcsfEvent {
  readonly class_uid: number;
  readonly class_name: string;
  readonly category_uid: number;
  readonly category_name: string;
  readonly activity_id: number;
  readonly activity_name: string;
  readonly type_uid: number;
  readonly type_name: string;
  /** Milliseconds since the epoch (OCSF `timestamp_t`). */
  readonly time: number;
  readonly severity_id: number;
  readonly severity: string;
  readonly status_id: number;
  readonly status: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly [attribute: string]: unknown;
}

/** severity_id and status_id by outcome: a denial is for someone to look at, a failure needs action. */
export const OCSF_OUTCOME = {
  success: { severity_id: 1, severity: 'Informational', status_id: 1, status: 'Success' },
  denied: { severity_id: 2, severity: 'Low', status_id: 2, status: 'Failure' },
  failure: { severity_id: 3, severity: 'Medium', status_id: 2, status: 'Failure' },
} as const;

export const OCSF_PRODUCT = { name: 'Warden', vendor_name: 'Warden' } as const;

/** OCSF `user.type_id` / `type`: people are users, agents non-human accounts (Other: "Agent"). */
const USER_TYPES = { person: { type_id: 1, type: 'User' }, admin: { type_id: 2, type: 'Admin' }, agent: { type_id: 99, type: 'Agent' } } as const;

type Decision = NonNullable<Chain['decision']>;

/** One Authorization Result per policy that decided (none decided: the effect alone). */
function authorizations(decision: Decision): Record<string, unknown>[] {
  if (decision.policies.length === 0) return [{ decision: decision.effect }];
  return decision.policies.map((uid) => ({ decision: decision.effect, policy: { uid, name: uid, ...(decision.revision ? { version: decision.revision } : {}) } }));
}

function actorOf(event: EventRecord, person: string | null): Record<string, unknown> {
  const { actor, chain } = event;
  const user = actor.kind === 'person' ? actor.id : person;
  return {
    ...(user !== null ? { user: { uid: user, ...USER_TYPES.person } } : {}),
    ...(actor.kind === 'agent' ? { app_name: actor.id, app_uid: actor.id } : {}),
    ...(actor.kind === 'system' ? { app_name: 'Warden', app_uid: actor.id } : {}),
    ...(chain?.decision ? { authorizations: authorizations(chain.decision) } : {}),
  };
}

/** API Activity `resources`: the task and tool of the chain, and the subject when it is neither. */
function resourcesOf(links: { task: string | null; tool: string | null }, subject: string | null, kind: SubjectKind | undefined): Record<string, unknown>[] {
  const resources: Record<string, unknown>[] = [];
  if (links.task !== null) resources.push({ type: 'task', uid: links.task });
  if (links.tool !== null) resources.push({ type: 'tool', uid: links.tool, name: links.tool });
  if (subject !== null && kind !== undefined && !resources.some((r) => r.type === kind && r.uid === subject)) {
    resources.push({ type: kind, uid: subject, ...(kind === 'tool' || kind === 'secret' ? { name: subject } : {}) });
  }
  return resources;
}

export interface OcsfOptions {
  /** The leaf hash stored with the entry; computed from the entry when not given. */
  readonly leaf?: Uint8Array;
  /** `metadata.product.version`; Warden's own version by default. */
  readonly productVersion?: string;
}

/**
 * An audit entry as an OCSF event: API Activity (6003) by default, Account Change (3001) for
 * identity lifecycle and Authentication (3002) for token issuance (`OCSF_MAPPING`). Pure and
 * deterministic. `unmapped` keeps the entry's own outcome, subject, chain and data as recorded,
 * with the RFC 9162 leaf hash (hex) that ties the event to a Merkle proof.
 */
export function toOcsf(event: EventRecord, opts: OcsfOptions = {}): OcsfEvent {
  const mapping = ocsfMappingOf(event.type);
  const cls = OCSF_CLASSES[mapping.class];
  const activity = activityName(mapping, event.type);
  const links = searchColumns(event);
  const outcome = OCSF_OUTCOME[event.outcome];
  const base: OcsfEvent = {
    class_uid: mapping.class,
    class_name: cls.name,
    category_uid: cls.category,
    category_name: OCSF_CATEGORIES[cls.category],
    activity_id: mapping.activity,
    activity_name: activity,
    type_uid: mapping.class * 100 + mapping.activity,
    type_name: `${cls.name}: ${activity}`,
    time: event.time,
    severity_id: outcome.severity_id,
    severity: outcome.severity,
    status_id: outcome.status_id,
    status: outcome.status,
    ...(event.error !== undefined ? { status_code: event.error } : {}),
    ...(event.outcome !== 'success' ? { status_detail: event.outcome } : {}),
    message: describeEventType(event.type),
    metadata: {
      version: OCSF_VERSION,
      product: { ...OCSF_PRODUCT, version: opts.productVersion ?? VERSION },
      uid: String(event.seq),
      sequence: event.seq,
      event_code: event.code,
      log_name: 'audit',
      ...(links.task !== null ? { correlation_uid: links.task } : {}),
    },
    actor: actorOf(event, links.person),
    unmapped: {
      entry_version: ENTRY_VERSION,
      leaf_hash: Buffer.from(opts.leaf ?? leafOf(event)).toString('hex'),
      outcome: event.outcome,
      actor: event.actor,
      subject: event.subject,
      ...(event.chain !== undefined ? { chain: event.chain } : {}),
      data: event.data,
    },
  };
  return { ...base, ...classFields(event, mapping.class, mapping.subject, links) };
}

/** The attributes a class requires or recommends beyond the base event. */
function classFields(event: EventRecord, cls: keyof typeof OCSF_CLASSES, kind: SubjectKind | undefined, links: ReturnType<typeof searchColumns>): Record<string, unknown> {
  const subject = event.subject;
  if (cls === 3001) {
    // The account the change was made to.
    const type = kind === 'admin' || kind === 'person' || kind === 'agent' ? USER_TYPES[kind] : {};
    return { user: { uid: subject ?? event.actor.id, ...type } };
  }
  if (cls === 3002) {
    // The agent asking for a token is the account logging on; Warden is the service.
    return {
      user: { uid: links.agent ?? subject ?? event.actor.id, ...USER_TYPES.agent },
      service: { name: 'Warden' },
      auth_protocol_id: 6,
      auth_protocol: 'OAUTH 2.0',
      ...(kind === 'access_token' && subject !== null ? { session: { uid: subject } } : {}),
    };
  }
  // API Activity: the operation is the event type. Entries carry no network addresses, so the
  // required source endpoint names the actor.
  const resources = resourcesOf(links, subject, kind);
  return {
    api: { operation: event.type },
    src_endpoint: { name: event.actor.id },
    ...(resources.length > 0 ? { resources } : {}),
  };
}
