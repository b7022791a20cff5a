import type { z } from 'zod';
import { WardenError } from '../errors/warden-error.js';

/**
 * Validates input at an edge. Failures become INVALID_INPUT listing each problem by path and
 * reason; the offending values are never echoed back (they may be secrets pasted by mistake).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 20).map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
  throw new WardenError('INVALID_INPUT', { issues });
}
