import { z } from 'zod';
import { AgentIdSchema } from './ids.js';

/** EU AI Act risk categories (Regulation (EU) 2024/1689, Art. 5, 6, 50). */
export const RISK_CATEGORIES = ['minimal', 'limited', 'high', 'unacceptable'] as const;
export const RiskCategorySchema = z.enum(RISK_CATEGORIES);
export type RiskCategory = z.infer<typeof RiskCategorySchema>;

export const AgentStatusSchema = z.enum(['active', 'suspended', 'retired']);
export type AgentStatus = z.infer<typeof AgentStatusSchema>;

/**
 * A capability names a tool (`server.tool`) or endpoint (`http:upstream/path`) an agent may
 * ever ask for. `*` matches within one dot-separated segment, `**` across segments.
 */
export const CapabilitySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.:/*-]+$/, 'capability may hold letters, digits and _ . : / * -');
export type Capability = z.infer<typeof CapabilitySchema>;

/** Names are for people and CLIs: short, stable, no spaces. */
export const AgentNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and -; at most 63');

export const AgentSchema = z.object({
  id: AgentIdSchema,
  name: AgentNameSchema,
  owner: z.string().min(1).max(200),
  purpose: z.string().min(1).max(2000),
  riskCategory: RiskCategorySchema,
  status: AgentStatusSchema,
  capabilities: z.array(CapabilitySchema).max(500),
  maxTaskLifetimeSec: z.number().int().positive(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type Agent = z.infer<typeof AgentSchema>;

export const AgentKeyStatusSchema = z.enum(['active', 'retired']);

/** An agent's public key. Its RFC 7638 thumbprint (`jkt`) is its identity everywhere. */
export const AgentKeySchema = z.object({
  agentId: AgentIdSchema,
  jkt: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  jwk: z.record(z.string(), z.unknown()),
  alg: z.enum(['EdDSA', 'ES256']),
  status: AgentKeyStatusSchema,
  createdAt: z.number().int(),
  retiredAt: z.number().int().nullable(),
});
export type AgentKey = z.infer<typeof AgentKeySchema>;
