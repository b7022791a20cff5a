import type { z } from 'zod';
import type { FlowLabelsSchema, RiskTierSchema } from '../../config/tool-metadata.js';
import type { McpUpstream } from './upstream-config.js';

/** What policies know about one upstream tool besides its definition. */
export interface ToolMetadata {
  readonly risk: z.infer<typeof RiskTierSchema>;
  readonly tags: readonly string[];
  readonly labels: z.infer<typeof FlowLabelsSchema>;
  readonly hidden: boolean;
}

/**
 * The configured risk, tags, flow labels and visibility of `tool` on `upstream`: the upstream's
 * `defaults`, overridden by `tools[tool]` (labels field by field). The upstream's own
 * annotations (`destructiveHint`, …) are deliberately not consulted: they are claims of the
 * code Warden guards against, so only configuration sets what policies rely on.
 */
export function toolMetadata(upstream: McpUpstream, tool: string): ToolMetadata {
  const override = Object.hasOwn(upstream.tools, tool) ? upstream.tools[tool] : undefined;
  return {
    risk: override?.risk ?? upstream.defaults.risk,
    tags: override?.tags ?? upstream.defaults.tags,
    labels: { ...upstream.defaults.labels, ...definedOnly(override?.labels ?? {}) },
    hidden: override?.hidden ?? false,
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
