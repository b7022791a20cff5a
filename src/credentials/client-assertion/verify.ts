import { AgentIdSchema, type Agent, type AgentKey } from '../../domain/index.js';
import { WardenError } from '../../errors/warden-error.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import { parseCompactJws, parseJsonObject } from '../jws/compact.js';
import { isAcceptedAlg, verifyJwsSignature } from '../jws/verify-signature.js';
import type { PublicKeyCache } from '../keys/public-jwk.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_ASSERTION_LENGTH = 4096;

export interface AuthenticatedAgent {
  readonly agent: Agent;
  /** The key that signed the assertion. */
  readonly key: AgentKey;
  readonly liveKeys: readonly AgentKey[];
}

/**
 * Authenticates an agent by its `private_key_jwt` client assertion (RFC 7523 §3, RFC 7521
 * §4.2): signed by one of the agent's live keys, `iss` = `sub` = the agent id, `aud` naming
 * this token endpoint (or the issuer, as RFC 7523bis asks), a short `exp`, and a `jti` used
 * once (remembered in the store, so a replay to another replica fails too).
 *
 * The signature is checked before the agent's status is looked at: an unauthenticated caller
 * learns nothing about an agent but "invalid client".
 */
export class ClientAssertionVerifier {
  constructor(
    private readonly store: Store,
    private readonly keyCache: PublicKeyCache,
    private readonly clock: Clock,
    private readonly opts: { audiences: readonly string[]; maxAgeSec: number; skewSec: number },
  ) {}

  async verify(assertionType: string | undefined, assertion: string | undefined, clientId: string | undefined): Promise<AuthenticatedAgent> {
    if (assertionType !== CLIENT_ASSERTION_TYPE || !assertion) {
      throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: 'client_assertion and its type are required' });
    }
    const jws = parseCompactJws(assertion, MAX_ASSERTION_LENGTH);
    if (typeof jws === 'string') throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: jws });
    const { header } = jws;
    if (!isAcceptedAlg(header.alg)) throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: 'alg' });
    if ('crit' in header || 'b64' in header) throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: 'crit' });
    if (header.typ !== undefined && header.typ !== 'JWT' && header.typ !== 'client-authentication+jwt') {
      throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: 'typ' });
    }
    const claims = parseJsonObject(jws.payload);
    if (!claims) throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: 'payload' });
    const agentId = AgentIdSchema.safeParse(claims.iss);
    if (!agentId.success || claims.sub !== claims.iss) throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: 'iss/sub' });
    if (clientId !== undefined && clientId !== claims.iss) throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: 'client_id' });

    const agent = await this.store.getAgent(agentId.data);
    const keys = agent ? await this.store.listAgentKeys(agent.id) : [];
    const live = keys.filter((k) => k.status === 'active' && k.alg === header.alg);
    const candidates = typeof header.kid === 'string' ? live.filter((k) => k.jkt === header.kid) : live;
    let signer: AgentKey | undefined;
    for (const k of candidates) {
      const valid = await this.keyCache.get(k.jwk);
      if (typeof valid !== 'string' && verifyJwsSignature(valid.alg, valid.key, jws.signingInput, jws.signature)) {
        signer = k;
        break;
      }
    }
    if (!agent || !signer) throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: 'signature' });

    const nowSec = this.clock.now() / 1000;
    const { aud, exp, iat, nbf, jti } = claims;
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.some((a) => typeof a === 'string' && this.opts.audiences.includes(a))) {
      throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: 'aud' });
    }
    if (typeof exp !== 'number' || exp <= nowSec - this.opts.skewSec) throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: 'exp' });
    if (exp > nowSec + this.opts.maxAgeSec + this.opts.skewSec) {
      throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: 'exp too far in the future' });
    }
    if ((typeof iat === 'number' && iat > nowSec + this.opts.skewSec) || (typeof nbf === 'number' && nbf > nowSec + this.opts.skewSec)) {
      throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: 'not yet valid' });
    }
    if (typeof jti !== 'string' || jti.length < 8 || jti.length > 256) throw new WardenError('CLIENT_ASSERTION_INVALID', { reason: 'jti' });
    const fresh = await this.store.rememberOnce('client_assertion', `${agent.id}:${jti}`, (exp + this.opts.skewSec) * 1000, this.clock.now());
    if (!fresh) throw new WardenError('CLIENT_ASSERTION_REPLAY', { agent: agent.id });

    if (agent.status === 'suspended') throw new WardenError('AGENT_SUSPENDED', { agent: agent.id });
    if (agent.status === 'retired') throw new WardenError('AGENT_RETIRED', { agent: agent.id });
    return { agent, key: signer, liveKeys: keys.filter((k) => k.status === 'active') };
  }
}
