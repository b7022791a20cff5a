import type { Chain } from '../domain/index.js';
import type { PolicyDecision } from './engine.js';

/**
 * A decision as the audit chain records it: allow, deny, held (for approval) or error (could
 * not evaluate — which denies), with the policies and revision behind it. Error messages are
 * Cedar's own (policy ids and evaluation errors), never request data.
 */
export function decisionLink(d: PolicyDecision): NonNullable<Chain['decision']> {
  const effect = d.kind === 'approval' ? 'held' : d.kind === 'failed' ? 'error' : d.kind;
  return {
    effect,
    policies: d.policies.slice(0, 100),
    revision: d.revision,
    ...(d.errors.length > 0 ? { errors: d.errors.slice(0, 20).map((e) => `${e.policy}: ${e.message}`.slice(0, 2000)) } : {}),
  };
}
