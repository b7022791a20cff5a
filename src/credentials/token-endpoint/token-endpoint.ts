import { CapabilitySchema, type Agent, type OnBehalfOf, type Task } from '../../domain/index.js';
import { WardenError } from '../../errors/warden-error.js';
import type { EventLog } from '../../events/event-log.js';
import type { TaskService } from '../../identity/task-service.js';
import type { Clock } from '../../util/clock.js';
import type { IdGenerator } from '../../util/id-generator.js';
import { issueAccessToken } from '../access-token/issue.js';
import type { ClientAssertionVerifier } from '../client-assertion/verify.js';
import type { DpopVerifier } from '../dpop/verify-proof.js';
import type { SigningKeyRing } from '../keys/signing-keys.js';
import type { SubjectTokenVerifier } from '../subject-token/verify.js';

export const GRANT_CLIENT_CREDENTIALS = 'client_credentials';
export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** The successful token response (RFC 6749 §5.1, RFC 9449 §5, RFC 8693 §2.2.1) plus the task. */
export interface TokenResponse {
  access_token: string;
  token_type: 'DPoP';
  expires_in: number;
  scope: string;
  task: string;
  task_expires_at: number;
  issued_token_type?: string;
}

const KNOWN_PARAMS = new Set([
  'grant_type',
  'client_id',
  'client_assertion_type',
  'client_assertion',
  'scope',
  'purpose',
  'task',
  'task_lifetime',
  'ticket',
  'subject_token',
  'subject_token_type',
  'requested_token_type',
  'audience',
  'resource',
]);

/** Form parameters, each present at most once (RFC 6749 §3.2). */
function singleParams(form: URLSearchParams): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of form) {
    if (out.has(k)) throw new WardenError('INVALID_INPUT', { reason: 'parameter repeated', parameter: KNOWN_PARAMS.has(k) ? k : '(unknown)' });
    out.set(k, v);
  }
  return out;
}

function parseScope(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') throw new WardenError('INVALID_INPUT', { reason: 'scope is required' });
  const items = raw.split(' ').filter(Boolean);
  if (items.length > 500 || !items.every((s) => CapabilitySchema.safeParse(s).success)) {
    throw new WardenError('INVALID_INPUT', { reason: 'scope is not a list of capabilities' });
  }
  return items;
}

function parseLifetime(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]{0,7}$/.test(raw)) throw new WardenError('INVALID_INPUT', { reason: 'task_lifetime must be whole seconds' });
  return Number(raw);
}

function boundedText(raw: string | undefined, name: string, max: number, required: boolean): string | undefined {
  if (raw === undefined || raw.trim() === '') {
    if (required) throw new WardenError('INVALID_INPUT', { reason: `${name} is required` });
    return undefined;
  }
  if (raw.length > max) throw new WardenError('INVALID_INPUT', { reason: `${name} is longer than ${max}` });
  return raw.trim();
}

/**
 * `POST /oauth/token`. Two grants, both authenticated by a client assertion and a DPoP proof
 * made with one of the agent's registered keys:
 * - `client_credentials`: start a task (`purpose`, `scope`, optional `task_lifetime`,
 *   `ticket`), or with `task=tsk_…` get a fresh token for a task that is still live;
 * - RFC 8693 token exchange: the same, on behalf of the person proven by `subject_token`.
 */
export class TokenEndpoint {
  constructor(
    private readonly deps: {
      dpop: DpopVerifier;
      clients: ClientAssertionVerifier;
      subjects: SubjectTokenVerifier;
      tasks: TaskService;
      keys: SigningKeyRing;
      events: EventLog;
      clock: Clock;
      ids: IdGenerator;
      issuer: string;
      audience: string;
      tokenEndpointUrl: URL;
      accessTokenTtlSec: number;
    },
  ) {}

  async handle(form: URLSearchParams, dpopHeader: string | string[] | undefined): Promise<TokenResponse> {
    const p = singleParams(form);
    const grant = p.get('grant_type');
    if (grant !== GRANT_CLIENT_CREDENTIALS && grant !== GRANT_TOKEN_EXCHANGE) {
      throw new WardenError(grant ? 'GRANT_UNSUPPORTED' : 'INVALID_INPUT', grant ? undefined : { reason: 'grant_type is required' });
    }
    const d = this.deps;
    // The proof is checked first: it needs no database and rejects most forgeries cheaply.
    const proof = await d.dpop.verify({ proof: dpopHeader, method: 'POST', url: d.tokenEndpointUrl });
    const { agent, liveKeys } = await d.clients.verify(p.get('client_assertion_type'), p.get('client_assertion'), p.get('client_id'));
    try {
      // The token is bound to a key that is the agent's own identity: retiring that key (or
      // suspending the agent) is enough to make every token bound to it worthless.
      if (!liveKeys.some((k) => k.jkt === proof.key.jkt)) throw new WardenError('DPOP_KEY_MISMATCH');
      const task = await this.resolveTask(grant, p, agent);
      const issued = await issueAccessToken({
        keys: d.keys,
        issuer: d.issuer,
        audience: d.audience,
        agent,
        task,
        jkt: proof.key.jkt,
        jti: d.ids.next('token'),
        nowMs: d.clock.now(),
        ttlSec: d.accessTokenTtlSec,
      });
      await d.events.record({
        type: 'credential.issue',
        outcome: 'success',
        actor: { kind: 'agent', id: agent.id },
        subject: issued.claims.jti,
        chain: {
          ...(task.onBehalfOf ? { person: { sub: task.onBehalfOf.sub, iss: task.onBehalfOf.iss } } : {}),
          agent: agent.id,
          agentKey: proof.key.jkt,
          task: task.id,
        },
        data: { agent: agent.id, task: task.id, exp: issued.claims.exp, jkt: proof.key.jkt, act: issued.claims.act ?? null },
      });
      return {
        access_token: issued.token,
        token_type: 'DPoP',
        expires_in: issued.expiresIn,
        scope: issued.claims.scope,
        task: task.id,
        task_expires_at: Math.floor(task.expiresAt / 1000),
        ...(grant === GRANT_TOKEN_EXCHANGE ? { issued_token_type: ACCESS_TOKEN_TYPE } : {}),
      };
    } catch (err) {
      if (err instanceof WardenError && err.code !== 'INTERNAL' && err.code !== 'STORE_UNAVAILABLE') {
        await d.events.record({
          type: 'credential.deny',
          outcome: 'denied',
          error: err.code,
          actor: { kind: 'agent', id: agent.id },
          subject: agent.id,
          chain: { agent: agent.id },
          data: { code: err.code, grant },
        });
      }
      throw err;
    }
  }

  private async resolveTask(grant: string, p: Map<string, string>, agent: Agent): Promise<Task> {
    const d = this.deps;
    const existing = p.get('task');
    if (existing !== undefined) {
      if (grant !== GRANT_CLIENT_CREDENTIALS) throw new WardenError('INVALID_INPUT', { reason: 'task refresh uses client_credentials' });
      return d.tasks.getLive(existing, agent.id);
    }
    let onBehalfOf: OnBehalfOf | null = null;
    if (grant === GRANT_TOKEN_EXCHANGE) {
      const requested = p.get('requested_token_type');
      if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) throw new WardenError('INVALID_INPUT', { reason: 'requested_token_type' });
      onBehalfOf = await d.subjects.verify(p.get('subject_token_type'), p.get('subject_token'));
    }
    return d.tasks.grant({
      agent,
      purpose: boundedText(p.get('purpose'), 'purpose', 4000, true) as string,
      scope: parseScope(p.get('scope')),
      lifetimeSec: parseLifetime(p.get('task_lifetime')),
      ticket: boundedText(p.get('ticket'), 'ticket', 200, false),
      onBehalfOf,
    });
  }
}
