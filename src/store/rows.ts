import type { z } from 'zod';
import { WardenError } from '../errors/warden-error.js';

/**
 * Database rows are input like any other: a row that does not fit its schema (edited by hand,
 * written by a newer version, corrupted) fails closed instead of flowing on unchecked.
 */
export function parseRow<S extends z.ZodType>(schema: S, value: unknown, table: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new WardenError('INTERNAL', { table, reason: 'row does not match schema' }, { cause: result.error });
  }
  return result.data;
}

/** JSON text from a column, parsed without trusting it. */
export function parseJsonColumn(text: unknown, table: string): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new WardenError('INTERNAL', { table, reason: 'column is not JSON' }, { cause });
  }
}
