import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { CedarRequest, PolicyDecision, PolicyEngine } from './engine.js';

/** How one policy stood towards one request. */
export type PolicyStanding =
  | 'decided' // among the policies that made the decision
  | 'held-overridden' // its conditions held, but a forbid decided against it
  | 'error' // could not be evaluated: the request is denied for it
  | 'condition-false' // its scope (principal, action, resource) matched, a when/unless did not
  | 'not-applicable'; // its scope does not match this request

export interface Explanation {
  readonly decision: PolicyDecision;
  readonly policies: readonly {
    readonly id: string;
    readonly file: string;
    readonly line: number;
    readonly effect: 'permit' | 'forbid';
    readonly approvals: number;
    readonly standing: PolicyStanding;
    readonly error?: string;
  }[];
}

const ALLOW_ALL = 'permit(principal, action, resource);';

function alone(req: CedarRequest, schema: cedar.Schema, policies: Record<string, cedar.Policy>): cedar.Decision | 'error' {
  const answer = cedar.isAuthorized({ ...req, schema, validateRequest: false, policies: { staticPolicies: policies } });
  if (answer.type === 'failure' || answer.response.diagnostics.errors.length > 0) return 'error';
  return answer.response.decision;
}

/** Does the policy's condition-free version (its scope alone) match the request? */
function scopeMatches(req: CedarRequest, schema: cedar.Schema, text: string, effect: 'permit' | 'forbid'): boolean {
  const json = cedar.policyToJson(text);
  if (json.type === 'failure') return false;
  const bare = { ...json.json, conditions: [] } as cedar.Policy;
  const decision = effect === 'permit' ? alone(req, schema, { p: bare }) : alone(req, schema, { p: bare, all: ALLOW_ALL });
  return effect === 'permit' ? decision === 'allow' : decision === 'deny';
}

/**
 * For one request: the decision, and for every policy of the set whether it decided, held but
 * was overridden, failed, had its conditions fail, or did not apply — found by evaluating each
 * policy alone and, when it does not hold, its scope without its conditions.
 */
export function explain(engine: PolicyEngine, req: CedarRequest): Explanation {
  const decision = engine.evaluate(req);
  const schema = engine.cedarSchema;
  const errors = new Map(decision.errors.map((e) => [e.policy, e.message]));
  const decided = new Set(decision.policies);
  const policies = [...engine.policies.values()].map((p) => {
    const base = { id: p.id, file: p.file, line: p.line, effect: p.effect, approvals: p.approvals };
    if (errors.has(p.id)) return { ...base, standing: 'error' as const, error: errors.get(p.id)! };
    if (decided.has(p.id)) return { ...base, standing: 'decided' as const };
    const holds = p.effect === 'permit' ? alone(req, schema, { p: p.text }) === 'allow' : alone(req, schema, { p: p.text, all: ALLOW_ALL }) === 'deny';
    if (holds) return { ...base, standing: 'held-overridden' as const };
    return { ...base, standing: scopeMatches(req, schema, p.text, p.effect) ? ('condition-false' as const) : ('not-applicable' as const) };
  });
  return { decision, policies };
}
