import { createHmac, hkdfSync, type KeyObject } from 'node:crypto';
import type { FlowConfig } from '../config/flow-config.js';
import type { FlowLabels } from '../config/tool-metadata.js';
import type { SeenValue, Task } from '../domain/index.js';
import type { FlowFacts } from '../policy/engine.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { effectiveSink } from './effective-sink.js';
import { splitFields } from './result-fields.js';
import { namedIn } from './named-in.js';
import { splitAnchoredRecords } from './result-records.js';
import { ProvenanceLedger, type ProvenanceLedgerState } from './provenance/index.js';
import { walkLeaves } from './provenance/walk.js';

interface TaskState {
  revision: number;
  untrustedRead: boolean;
  confidentialRead: boolean;
  incomplete: boolean;
  readonly ledger: ProvenanceLedger;
}

/** Marks an argument list when provenance is incomplete: any argument may be from untrusted content. */
export const INCOMPLETE_PROVENANCE = '(provenance incomplete)';

// A ledger can hold thousands of digests: keep the views of the tasks in use, reload the rest.
const CACHE_TASKS = 1_000;

/**
 * The flow of each task (DESIGN.md "Flow control"): monotone labels and argument provenance.
 *
 * Before a call, `facts` says what the task has read (untrusted content, confidential data),
 * which of the call's arguments carry a value seen only in untrusted content, and where the
 * call sends data; Cedar decides on that (`context.flow`). After the call, `observe` records
 * what its result adds, as the tool's labels say: untrusted or trusted values, and the labels.
 *
 * State lives in the store (task_flow, task_values: keyed digests, never values), so replicas
 * share it; each process keeps a cached ledger per task and reloads it whenever the store's
 * revision moved past what it knows. Digests are HMAC-SHA-256 under a key derived per task from
 * the master key, so every replica computes the same digests and none can be matched across
 * tasks. The task's purpose (the person's own request) is always trusted.
 */
export class FlowTracker {
  private readonly cache = new Map<string, TaskState>();
  private readonly key: Buffer;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    masterKey: KeyObject | Uint8Array,
    private readonly config: FlowConfig,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'warden flow provenance v1', 32));
  }

  /** The flow facts of a call about to be decided. */
  async facts(task: Task, labels: FlowLabels, args: Record<string, unknown>): Promise<FlowFacts> {
    const state = await this.load(task);
    const c = state.ledger.classify(args);
    const argsFromUntrusted = [...c.fromUntrusted];
    // Fail closed: when not every untrusted value could be kept, any argument may carry one.
    if ((state.incomplete || c.incomplete) && state.untrustedRead && Object.keys(args).length > 0) argsFromUntrusted.push(INCOMPLETE_PROVENANCE);
    return {
      untrustedRead: state.untrustedRead,
      confidentialRead: state.confidentialRead,
      argsFromUntrusted,
      sink: effectiveSink(labels, args, this.config.internalDomains),
      onViolation: this.config.onViolation,
    };
  }

  /**
   * Records what a result the agent received adds to its task's flow. `echo`: the call's
   * arguments and the paths of those that came from untrusted content (`argsFromUntrusted` of
   * its facts): whatever the result repeats of them stays untrusted, however trusted the tool.
   */
  async observe(task: Task, labels: FlowLabels, content: unknown, echo?: { args: Record<string, unknown>; paths: readonly string[] }): Promise<void> {
    const trust = labels.source;
    const delta = new ProvenanceLedger({ key: this.ledgerKey(task.id), limits: this.limits() });
    // Records the person's request pointed at (by their author or place) are the person's.
    if (trust === 'untrusted' && labels.anchorFields?.length) {
      const { anchored, rest } = splitAnchoredRecords(content, { fields: new Set(labels.anchorFields), named: namedIn(task.purpose) });
      if (anchored.length > 0) {
        delta.observeContent(anchored, 'trusted');
        content = rest;
      }
    }
    // Per-field labels: the part of the result they name is read with the other trust.
    const fields = trust === 'trusted' ? labels.untrustedFields : [...(labels.trustedFields ?? []), ...(labels.anchorFields ?? [])];
    const prose = trust === 'trusted' && labels.untrustedProse === true;
    if (fields?.length || prose) {
      const { inside, outside } = splitFields(content, { fields: new Set(fields), prose, takeAmbiguous: trust === 'trusted' });
      delta.observeContent(inside, trust);
      if (outside.length > 0) delta.observeContent(outside, trust === 'trusted' ? 'untrusted' : 'trusted');
    } else {
      delta.observeContent(content, trust);
    }
    if (echo && echo.paths.length > 0) {
      const paths = new Set(echo.paths);
      const carried: (string | number)[] = [];
      walkLeaves(echo.args, (leaf, _key, path) => {
        if (paths.has(path)) carried.push(leaf);
        return true;
      });
      // `(provenance incomplete)` names no path: any argument may be untrusted, so none vouches.
      delta.withhold(paths.has(INCOMPLETE_PROVENANCE) ? echo.args : carried);
    }
    const s = delta.toJSON();
    const values: SeenValue[] = [
      ...s.trusted.map((d) => ({ digest: `v.${d}`, trust: 'trusted' as const })),
      ...s.trustedWords.map((d) => ({ digest: `w.${d}`, trust: 'trusted' as const })),
      ...s.untrusted.map((d) => ({ digest: `v.${d}`, trust: 'untrusted' as const })),
      ...s.untrustedWords.map((d) => ({ digest: `w.${d}`, trust: 'untrusted' as const })),
    ];
    const untrustedRead = trust === 'untrusted';
    const confidentialRead = labels.data === 'confidential';
    if (!untrustedRead && !confidentialRead && values.length === 0) return;
    const known = this.cache.get(task.id);
    const { revision } = await this.store.recordTaskFlow(task.id, { untrustedRead, confidentialRead, incomplete: s.overflowed, values }, this.clock.now(), this.config.maxValuesPerTask);
    if (known && revision === known.revision + 1) {
      // Nobody else wrote in between: bring the cached view forward instead of reloading it.
      known.ledger.merge(delta);
      known.revision = revision;
      known.untrustedRead ||= untrustedRead;
      known.confidentialRead ||= confidentialRead;
      known.incomplete ||= s.overflowed;
    } else {
      this.cache.delete(task.id);
    }
  }

  private async load(task: Task): Promise<TaskState> {
    const head = await this.store.getTaskFlow(task.id, []);
    const cached = this.cache.get(task.id);
    if (cached && cached.revision === head.revision) return cached;
    const full = head.revision === 0 ? head : await this.store.getTaskFlow(task.id, 'all');
    const pick = (digests: readonly string[], prefix: string) => digests.filter((d) => d.startsWith(prefix)).map((d) => d.slice(prefix.length));
    const state: ProvenanceLedgerState = {
      v: 1,
      key: this.ledgerKey(task.id).toString('base64url'),
      trusted: pick(full.trusted, 'v.'),
      untrusted: pick(full.untrusted, 'v.'),
      trustedWords: pick(full.trusted, 'w.'),
      untrustedWords: pick(full.untrusted, 'w.'),
      overflowed: full.incomplete,
    };
    const ledger = ProvenanceLedger.fromJSON(state, this.limits());
    ledger.observePurpose(task.purpose);
    const loaded: TaskState = { revision: full.revision, untrustedRead: full.untrustedRead, confidentialRead: full.confidentialRead, incomplete: full.incomplete, ledger };
    if (this.cache.size >= CACHE_TASKS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(task.id, loaded);
    return loaded;
  }

  private ledgerKey(taskId: string): Buffer {
    return createHmac('sha256', this.key).update(taskId).digest();
  }

  private limits() {
    return { maxValues: this.config.maxValuesPerTask, maxWords: this.config.maxValuesPerTask };
  }
}
