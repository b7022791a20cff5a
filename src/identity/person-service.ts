import { z } from 'zod';
import { RoleSchema, type ApiKeyId, type Person, type PersonId, type Role } from '../domain/index.js';
import { WardenError } from '../errors/warden-error.js';
import { SYSTEM, type EventLog } from '../events/event-log.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { IdGenerator } from '../util/id-generator.js';
import { mintApiKey, secretMatches, splitApiKey } from './api-keys.js';

export const CreatePersonSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    email: z.email().max(320).optional(),
    roles: z.array(RoleSchema).min(1).max(4),
  })
  .strict();
export type CreatePerson = z.infer<typeof CreatePersonSchema>;

/** A person whose API key was just checked. Only `authenticate` makes these. */
export interface AuthenticatedPerson {
  readonly person: Person;
  readonly keyId: ApiKeyId;
}

export class PersonService {
  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /**
   * Creates the first admin when there is no person yet. Resolves to the API key, to be shown
   * once, or null when people already exist.
   */
  async bootstrapAdmin(): Promise<string | null> {
    if ((await this.store.countPersons()) > 0) return null;
    const { person, apiKey } = await this.insert({ name: 'admin', roles: ['admin'] });
    await this.events.record({ type: 'admin.bootstrap', outcome: 'success', actor: SYSTEM, subject: person.id, data: {} });
    return apiKey;
  }

  async create(input: CreatePerson, actor: Person): Promise<{ person: Person; apiKey: string }> {
    const created = await this.insert(input);
    await this.events.record({
      type: 'person.create',
      outcome: 'success',
      actor: { kind: 'person', id: actor.id },
      subject: created.person.id,
      data: { roles: created.person.roles },
    });
    return created;
  }

  list(): Promise<Person[]> {
    return this.store.listPersons();
  }

  async get(id: PersonId): Promise<Person> {
    const p = await this.store.getPerson(id);
    if (!p) throw new WardenError('PERSON_NOT_FOUND', { id });
    return p;
  }

  /** Checks a presented API key. Every failure is the same AUTH_INVALID: no oracle. */
  async authenticate(presented: string): Promise<AuthenticatedPerson> {
    const parts = splitApiKey(presented);
    if (!parts) throw new WardenError('AUTH_INVALID');
    const rec = await this.store.getApiKey(parts.id);
    if (!rec || !secretMatches(parts.secret, rec.secretHash) || rec.revokedAt !== null) throw new WardenError('AUTH_INVALID');
    const person = await this.store.getPerson(rec.personId);
    if (!person || person.status !== 'active') throw new WardenError('AUTH_INVALID');
    return { person, keyId: rec.id };
  }

  private async insert(input: CreatePerson): Promise<{ person: Person; apiKey: string }> {
    const now = this.clock.now();
    const person: Person = {
      id: this.ids.next('person') as PersonId,
      name: input.name,
      email: input.email ?? null,
      roles: [...new Set(input.roles)],
      status: 'active',
      createdAt: now,
    };
    const keyId = this.ids.next('apiKey') as ApiKeyId;
    const { presented, secretHash } = mintApiKey(keyId);
    await this.store.insertPerson(person);
    await this.store.insertApiKey({ id: keyId, personId: person.id, label: 'default', secretHash, createdAt: now, revokedAt: null });
    return { person, apiKey: presented };
  }
}

export function hasRole(person: Person, roles: readonly Role[]): boolean {
  return person.roles.some((r) => roles.includes(r));
}
