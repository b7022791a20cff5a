/** Where a value a task has seen came from (DESIGN.md "Flow control"). */
export type ValueTrust = 'trusted' | 'untrusted';

/** A value a task has seen, by keyed digest (never plaintext), and where it came from. */
export interface SeenValue {
  readonly digest: string;
  readonly trust: ValueTrust;
}

/**
 * What the store knows of a task's flow: its monotone labels and, of the digests asked about,
 * those seen in trusted sources (the person's request, trusted results) and in untrusted ones.
 */
export interface TaskFlow {
  readonly untrustedRead: boolean;
  readonly confidentialRead: boolean;
  readonly incomplete: boolean;
  /** Bumped by every write (0: nothing recorded). */
  readonly revision: number;
  readonly trusted: readonly string[];
  readonly untrusted: readonly string[];
}

/** What one result (or the task's purpose) adds to a task's flow. */
export interface TaskFlowUpdate {
  readonly untrustedRead: boolean;
  readonly confidentialRead: boolean;
  readonly incomplete: boolean;
  readonly values: readonly SeenValue[];
}
