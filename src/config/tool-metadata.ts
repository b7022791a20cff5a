import { z } from 'zod';

export const RISK_TIERS = ['low', 'medium', 'high', 'critical'] as const;
export const RiskTierSchema = z.enum(RISK_TIERS);

/** Flow labels of a tool (DESIGN.md "Flow control"); the toxic-flow issue puts them to work. */
export const FlowLabelsSchema = z
  .object({
    source: z.enum(['trusted', 'untrusted']).default('trusted'),
    data: z.enum(['public', 'internal', 'confidential']).default('internal'),
    sink: z.enum(['none', 'internal', 'external']).default('none'),
  })
  .strict();
