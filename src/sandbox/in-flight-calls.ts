import { randomUUID } from 'node:crypto';
import type { VerifiedCredential } from '../pipeline/verified-credential.js';

/** Whose authority a sandbox's egress request runs under, or why there is none. */
export type Attribution =
  | { readonly kind: 'task'; readonly cred: VerifiedCredential }
  | { readonly kind: 'none'; readonly reason: 'no-call-in-flight' | 'several-tasks' };

interface Call {
  readonly upstream: string;
  readonly cred: VerifiedCredential;
  readonly seq: number;
}

/**
 * The tool calls in flight to each upstream, with the credential each runs under. A sandbox's
 * egress request is decided as part of the call that caused it: for an `exec` command that is
 * exactly its own call; for a sandboxed server, the one task whose calls are in flight to it. A
 * request that could belong to two tasks belongs to neither (a confused deputy would otherwise
 * let one task's server spend another task's authority).
 */
export class InFlightCalls {
  private readonly calls = new Map<string, Call>();
  private seq = 0;

  /** Marks a call in flight until `end()`. The id names it to a sandbox started for it. */
  begin(upstream: string, cred: VerifiedCredential): { readonly id: string; end(): void } {
    const id = randomUUID();
    this.calls.set(id, { upstream, cred, seq: ++this.seq });
    return { id, end: () => void this.calls.delete(id) };
  }

  /** The credential of one call still in flight. */
  credential(id: string): VerifiedCredential | undefined {
    return this.calls.get(id)?.cred;
  }

  /** The task a request from `upstream`'s sandbox acts for, if exactly one has calls in flight to it. */
  attribute(upstream: string): Attribution {
    let latest: Call | undefined;
    for (const call of this.calls.values()) {
      if (call.upstream !== upstream) continue;
      if (latest && latest.cred.taskId !== call.cred.taskId) return { kind: 'none', reason: 'several-tasks' };
      // The newest credential of the task: a refreshed token outlives the one that started an older call.
      if (!latest || call.seq > latest.seq) latest = call;
    }
    return latest ? { kind: 'task', cred: latest.cred } : { kind: 'none', reason: 'no-call-in-flight' };
  }
}
