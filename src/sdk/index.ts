/**
 * Warden agent SDK (`warden/sdk`): load the agent's key, start a task, call through Warden
 * with DPoP-signed requests, end the task.
 *
 * ```ts
 * const agent = new WardenAgent({ wardenUrl, agentId, key: await loadAgentKey('agent.jwk') });
 * const task = await agent.startTask({ purpose: 'triage ticket 42', scope: ['github.list_issues'] });
 * const res = await task.fetch('/agent/v1/whoami');
 * await task.end();
 * ```
 */
export { WardenAgent, TaskSession, type TaskRequest } from './agent.js';
export { WardenRequestError } from './errors.js';
export { generateAgentKey, loadAgentKey, saveAgentKey, createDpopProof, createClientAssertion, type AgentKeyPair } from './keys.js';
