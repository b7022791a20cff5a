import type { ReplayStep } from './trace.js';

/** What the replay upstream must answer one `tools/call` with. */
export type ScriptAnswer =
  | { readonly kind: 'result'; readonly text: string }
  /** The call is not the one the script expects: the replay is broken, and says so. */
  | { readonly kind: 'unexpected'; readonly reason: string };

/** How one armed step ended at the upstream. */
export interface StepSettlement {
  /** The upstream answered the step (Warden forwarded the call). */
  readonly forwarded: boolean;
  /** Calls the upstream received that were not this step's (wrong suite or tool, a second call, no step armed). */
  readonly unexpected: readonly string[];
}

/**
 * The replay upstream's script: the one step whose recorded result the next `tools/call`
 * gets. Runs are replayed one at a time and their steps in order, so "the next expected
 * result" is well defined. The runner arms a step before it sends the call through Warden and
 * settles it after the answer; the upstream consumes it if Warden forwards the call.
 */
export class ReplayScript {
  private armed: { readonly suite: string; readonly step: ReplayStep } | undefined;
  private answered = false;
  private unexpected: string[] = [];

  /** The next call to `suite` must be `step.tool`; it gets `step.result`. */
  arm(suite: string, step: ReplayStep): void {
    if (this.armed) throw new TypeError('a replay step is still armed: settle it first');
    this.armed = { suite, step };
    this.answered = false;
  }

  /** The upstream of `suite` received a call of `tool`. */
  answer(suite: string, tool: string): ScriptAnswer {
    const armed = this.armed;
    let reason: string | undefined;
    if (!armed) reason = `${suite}.${tool} called with no step armed`;
    else if (this.answered) reason = `${suite}.${tool} called twice for one step`;
    else if (armed.suite !== suite || armed.step.tool !== tool) reason = `${suite}.${tool} called where ${armed.suite}.${armed.step.tool} was expected`;
    if (reason !== undefined || !armed) {
      const why = reason ?? 'no step armed';
      this.unexpected.push(why);
      return { kind: 'unexpected', reason: why };
    }
    this.answered = true;
    return { kind: 'result', text: armed.step.result };
  }

  /** Ends the armed step: whether the upstream answered it, and anything unexpected since it was armed. */
  settle(): StepSettlement {
    if (!this.armed) throw new TypeError('no replay step is armed');
    const settled = { forwarded: this.answered, unexpected: this.unexpected };
    this.armed = undefined;
    this.answered = false;
    this.unexpected = [];
    return settled;
  }
}
