import { ERRORS, type ErrorCode, type ErrorSpec } from './registry.js';

/** Non-secret, structured facts about an error (ids, claim names, limits). Never tokens or keys. */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null | readonly string[]>>;

/**
 * The one domain error. Its message is the registry's fixed text for the code, so nothing a
 * caller sent can be reflected back through it.
 */
export class WardenError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(ERRORS[code].message, options);
    this.name = 'WardenError';
    this.code = code;
    this.details = details;
  }

  get spec(): ErrorSpec {
    return ERRORS[this.code];
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}

/**
 * Any thrown value as a WardenError: domain errors pass through, everything else becomes
 * `INTERNAL` (its message is kept only as `cause`, for the server log, never for the caller).
 */
export function toWardenError(err: unknown): WardenError {
  if (err instanceof WardenError) return err;
  return new WardenError('INTERNAL', undefined, { cause: err });
}
