import type { Chain } from '../domain/index.js';
import type { VerifiedCredential } from './verified-credential.js';

/** The links of the attribution chain a verified credential proves: person, agent, key, task. */
export function credentialChain(cred: VerifiedCredential, tool?: string): Chain {
  return {
    ...(cred.onBehalfOf ? { person: { sub: cred.onBehalfOf.sub, iss: cred.onBehalfOf.iss } } : {}),
    agent: cred.agentId,
    agentKey: cred.jkt,
    task: cred.taskId,
    ...(tool !== undefined ? { tool } : {}),
  };
}
