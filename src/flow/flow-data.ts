import type { FlowFacts } from '../policy/engine.js';

/** Whether the flow facts say anything a policy could act on (else they stay out of entries). */
export function flowMatters(f: FlowFacts): boolean {
  return f.untrustedRead || f.confidentialRead || f.argsFromUntrusted.length > 0 || f.sink === 'external';
}

/** The flow facts as an audit entry keeps them: what a decision on this call was based on. */
export function flowData(f: FlowFacts): Record<string, unknown> {
  return { untrustedRead: f.untrustedRead, confidentialRead: f.confidentialRead, argsFromUntrusted: [...f.argsFromUntrusted], ...(f.sink ? { sink: f.sink } : {}) };
}
