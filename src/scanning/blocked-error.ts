import { WardenError } from '../errors/warden-error.js';
import type { Finding } from './scanner.js';

/** Which way a scanned message travels: back to the agent, or out from it. */
export type ScanDirection = 'results' | 'arguments';

/** At most this many JSON pointers go into error details; the audit entry has them all. */
const MAX_PATHS = 20;

/**
 * What an error or a log line may say about findings: detector ids and JSON pointers, each
 * once. Never offsets into the secret's string or anything derived from its text.
 */
export function findingSummary(findings: readonly Finding[]): { detectors: string[]; paths: string[]; count: number } {
  return {
    detectors: [...new Set(findings.map((f) => f.detector))].sort(),
    paths: [...new Set(findings.map((f) => f.path))].slice(0, MAX_PATHS),
    count: findings.length,
  };
}

/**
 * The error a caller throws when a scan says `block`: `SECRET_IN_ARGUMENTS` (403) for an
 * outgoing call, `SECRET_IN_RESPONSE` (502) for a response withheld from the agent.
 */
export function secretBlockedError(direction: ScanDirection, findings: readonly Finding[]): WardenError {
  return new WardenError(direction === 'arguments' ? 'SECRET_IN_ARGUMENTS' : 'SECRET_IN_RESPONSE', findingSummary(findings));
}
