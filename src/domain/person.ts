import { z } from 'zod';
import { ApiKeyIdSchema, PersonIdSchema } from './ids.js';

export const ROLES = ['admin', 'approver', 'auditor', 'viewer'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

export const PersonSchema = z.object({
  id: PersonIdSchema,
  name: z.string().min(1).max(200),
  email: z.string().max(320).nullable(),
  roles: z.array(RoleSchema).max(ROLES.length),
  status: z.enum(['active', 'disabled']),
  createdAt: z.number().int(),
});
export type Person = z.infer<typeof PersonSchema>;

/** An API key record: only the SHA-256 of the secret part is kept. */
export const ApiKeyRecordSchema = z.object({
  id: ApiKeyIdSchema,
  personId: PersonIdSchema,
  label: z.string().max(200),
  secretHash: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  createdAt: z.number().int(),
  revokedAt: z.number().int().nullable(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecordSchema>;
