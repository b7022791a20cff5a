import { z } from 'zod';
import {
  AgentIdSchema,
  AgentNameSchema,
  CapabilitySchema,
  RiskCategorySchema,
  type Actor,
  type Agent,
  type AgentId,
  type AgentKey,
  type AgentStatus,
} from '../domain/index.js';
import { validatePublicJwk } from '../credentials/keys/public-jwk.js';
import { WardenError } from '../errors/warden-error.js';
import type { EventLog } from '../events/event-log.js';
import type { RevocationSet } from '../revocation/revocation-set.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { IdGenerator } from '../util/id-generator.js';
import { parseInput } from '../util/parse-input.js';

/** Longest task any agent may be given (a profile may set less). */
export const MAX_TASK_LIFETIME_SEC = 7 * 24 * 3600;

export const RegisterAgentSchema = z
  .object({
    name: AgentNameSchema,
    owner: z.string().trim().min(1).max(200),
    purpose: z.string().trim().min(1).max(2000),
    riskCategory: RiskCategorySchema,
    capabilities: z.array(CapabilitySchema).min(1).max(500),
    maxTaskLifetimeSec: z.number().int().min(60).max(MAX_TASK_LIFETIME_SEC).default(3600),
    publicKeys: z.array(z.record(z.string(), z.unknown())).min(1).max(2),
  })
  .strict();
export type RegisterAgent = z.input<typeof RegisterAgentSchema>;

export const AgentRefSchema = z.union([AgentIdSchema, AgentNameSchema]);

/** An agent with its keys, as the API shows it. */
export interface AgentView {
  agent: Agent;
  keys: AgentKey[];
}

/**
 * Agent identities: registration, lifecycle and key rotation. Private keys never reach Warden:
 * only public JWKs are accepted, and a JWK with private members is refused.
 */
export class AgentService {
  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly revocations: RevocationSet,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  async register(input: unknown, actor: Actor): Promise<AgentView> {
    const req = parseInput(RegisterAgentSchema, input);
    // EU AI Act Art. 5: prohibited practices have no place to run, so no identity either.
    if (req.riskCategory === 'unacceptable') throw new WardenError('AGENT_RISK_PROHIBITED');
    const now = this.clock.now();
    const id = this.ids.next('agent') as AgentId;
    const keys: AgentKey[] = [];
    for (const jwk of req.publicKeys) keys.push(await this.toKey(id, jwk, now));
    if (new Set(keys.map((k) => k.jkt)).size !== keys.length) throw new WardenError('AGENT_KEY_INVALID', { reason: 'duplicate key' });
    const agent: Agent = {
      id,
      name: req.name,
      owner: req.owner,
      purpose: req.purpose,
      riskCategory: req.riskCategory,
      status: 'active',
      capabilities: [...new Set(req.capabilities)],
      maxTaskLifetimeSec: req.maxTaskLifetimeSec,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.insertAgent(agent, keys);
    await this.events.record({
      type: 'agent.register',
      outcome: 'success',
      actor,
      subject: id,
      data: {
        name: agent.name,
        owner: agent.owner,
        riskCategory: agent.riskCategory,
        capabilities: agent.capabilities,
        keys: keys.map((k) => k.jkt),
      },
    });
    return { agent, keys };
  }

  async list(status?: AgentStatus): Promise<Agent[]> {
    return this.store.listAgents(status ? { status } : {});
  }

  /** Finds an agent by id (`agt_…`) or by name. */
  async get(ref: string): Promise<AgentView> {
    const parsed = AgentRefSchema.safeParse(ref);
    if (!parsed.success) throw new WardenError('AGENT_NOT_FOUND');
    const agent = ref.startsWith('agt_') ? await this.store.getAgent(ref as AgentId) : await this.store.getAgentByName(ref);
    if (!agent) throw new WardenError('AGENT_NOT_FOUND');
    return { agent, keys: await this.store.listAgentKeys(agent.id) };
  }

  /** Suspends: every token of the agent stops working on the next request. */
  async suspend(ref: string, reason: string, actor: Actor): Promise<Agent> {
    const { agent } = await this.get(ref);
    if (agent.status === 'retired') throw new WardenError('AGENT_RETIRED', { id: agent.id });
    await this.revocations.revoke({ kind: 'agent', value: agent.id, reason, createdAt: this.clock.now(), expiresAt: null, liftedAt: null });
    const updated = await this.setStatus(agent.id, 'suspended');
    await this.events.record({ type: 'agent.suspend', outcome: 'success', actor, subject: agent.id, data: { reason } });
    return updated;
  }

  async resume(ref: string, actor: Actor): Promise<Agent> {
    const { agent } = await this.get(ref);
    if (agent.status === 'retired') throw new WardenError('AGENT_RETIRED', { id: agent.id });
    const updated = await this.setStatus(agent.id, 'active');
    await this.revocations.lift('agent', agent.id);
    await this.events.record({ type: 'agent.resume', outcome: 'success', actor, subject: agent.id, data: {} });
    return updated;
  }

  /** Retires for good. The agent stays in the store: history and audit refer to it. */
  async retire(ref: string, reason: string, actor: Actor): Promise<Agent> {
    const { agent } = await this.get(ref);
    await this.revocations.revoke({ kind: 'agent', value: agent.id, reason, createdAt: this.clock.now(), expiresAt: null, liftedAt: null });
    const updated = await this.setStatus(agent.id, 'retired');
    await this.events.record({ type: 'agent.retire', outcome: 'success', actor, subject: agent.id, data: { reason } });
    return updated;
  }

  /** Adds a key for rotation. At most two keys are live at once. */
  async addKey(ref: string, jwk: unknown, actor: Actor): Promise<AgentKey> {
    const { agent, keys } = await this.get(ref);
    if (agent.status === 'retired') throw new WardenError('AGENT_RETIRED', { id: agent.id });
    if (keys.filter((k) => k.status === 'active').length >= 2) throw new WardenError('AGENT_KEY_LIMIT', { id: agent.id });
    const key = await this.toKey(agent.id, jwk, this.clock.now());
    await this.store.insertAgentKey(key);
    await this.events.record({ type: 'agent.key_add', outcome: 'success', actor, subject: agent.id, data: { jkt: key.jkt, alg: key.alg } });
    return key;
  }

  /** Retires a key: tokens bound to it stop working on the next request. */
  async retireKey(ref: string, jkt: string, actor: Actor): Promise<AgentKey> {
    const { agent, keys } = await this.get(ref);
    const key = keys.find((k) => k.jkt === jkt);
    if (!key) throw new WardenError('NOT_FOUND', { resource: 'agent key' });
    const live = keys.filter((k) => k.status === 'active');
    if (key.status === 'active' && live.length === 1 && agent.status === 'active') {
      throw new WardenError('AGENT_KEY_LAST', { id: agent.id });
    }
    await this.revocations.revoke({ kind: 'key', value: jkt, reason: 'key retired', createdAt: this.clock.now(), expiresAt: null, liftedAt: null });
    const retired = await this.store.retireAgentKey(agent.id, jkt, this.clock.now());
    if (!retired) throw new WardenError('NOT_FOUND', { resource: 'agent key' });
    await this.events.record({ type: 'agent.key_retire', outcome: 'success', actor, subject: agent.id, data: { jkt } });
    return retired;
  }

  private async setStatus(id: AgentId, status: AgentStatus): Promise<Agent> {
    const updated = await this.store.setAgentStatus(id, status, this.clock.now());
    if (!updated) throw new WardenError('AGENT_NOT_FOUND');
    return updated;
  }

  private async toKey(agentId: AgentId, jwk: unknown, now: number): Promise<AgentKey> {
    const valid = await validatePublicJwk(jwk);
    if (typeof valid === 'string') throw new WardenError('AGENT_KEY_INVALID', { reason: valid });
    return { agentId, jkt: valid.jkt, jwk: valid.jwk, alg: valid.alg, status: 'active', createdAt: now, retiredAt: null };
  }
}
