import { z } from 'zod';

/** A Warden token-signing key as published in JWKS; the private half never enters the store. */
export const SigningKeyRecordSchema = z.object({
  kid: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  publicJwk: z.record(z.string(), z.unknown()),
  createdAt: z.number().int(),
  /** Set when another key took over signing. */
  retiredAt: z.number().int().nullable(),
  /** After this instant no token it signed can be valid: it leaves the JWKS. */
  verifyUntil: z.number().int().nullable(),
});
export type SigningKeyRecord = z.infer<typeof SigningKeyRecordSchema>;
