import { watch, type FSWatcher } from 'node:fs';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYSTEM, type EventLog } from '../events/event-log.js';
import { PolicyEngine } from './engine.js';
import type { CatalogTool } from '../config/schema.js';
import { readPolicyDir, type PolicyProblem } from './policy-set.js';

/** The policies Warden ships, copied into a new data directory on first start. */
export const SHIPPED_POLICY_DIR = fileURLToPath(new URL('../../../config/policies/', import.meta.url));

/** Creates the policy directory with the shipped policies, unless it exists. */
export async function ensurePolicyDir(dir: string): Promise<void> {
  const exists = await stat(dir).then(
    () => true,
    () => false,
  );
  if (exists) return;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const name of await readdir(SHIPPED_POLICY_DIR)) {
    if (name.endsWith('.cedar') || name.endsWith('.test.yaml')) await copyFile(join(SHIPPED_POLICY_DIR, name), join(dir, name));
  }
}

export type ReloadResult = { ok: true; revision: string; policies: number } | { ok: false; problems: PolicyProblem[]; revision: string | null };

/**
 * Keeps the engine's policy set in step with the files: on start, on `warden policy reload`,
 * and (when watching) on any change in the directory. Every outcome is recorded; a failed
 * load leaves the running set deciding.
 */
export class PolicyService {
  private current: PolicyEngine;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reloading: Promise<ReloadResult> | null = null;
  /** Reloads and catalog changes run one at a time, in the order asked. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    tools: readonly CatalogTool[],
    private readonly events: EventLog,
  ) {
    this.current = new PolicyEngine(tools);
  }

  /** The engine deciding now; replaced whole when the tool catalog changes. */
  get engine(): PolicyEngine {
    return this.current;
  }

  /**
   * Adopts a new tool catalog (upstream tools discovered or accepted): a new schema, the policy
   * files validated against it, and only then the new engine in place of the old. When the
   * files do not validate against the new catalog (a policy reads an argument whose type the
   * upstream changed), the old engine keeps deciding and the problems are reported.
   */
  setCatalog(tools: readonly CatalogTool[]): Promise<ReloadResult> {
    return this.serial(() => this.installFiles(new PolicyEngine(tools), { reason: 'catalog', tools: tools.length }));
  }

  /** Loads the set; Warden does not start on a policy set that fails (fail closed). */
  async start(watchFiles: boolean): Promise<ReloadResult> {
    const result = await this.reload();
    if (watchFiles) {
      this.watcher = watch(this.dir, { persistent: false }, () => {
        // Editors write in several steps: wait for the burst to settle.
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.reload().catch(() => undefined), 150);
        this.timer.unref();
      });
      this.watcher.on('error', () => undefined);
    }
    return result;
  }

  stop(): void {
    this.watcher?.close();
    if (this.timer) clearTimeout(this.timer);
  }

  /** Reads, compiles and validates the directory; swaps the set in only if all of it is good. */
  reload(): Promise<ReloadResult> {
    this.reloading ??= this.serial(() => this.installFiles(this.current, null)).finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Installs the directory's files into `engine` and, when they are valid, makes it the
   * deciding one; every outcome is recorded. `catalog` says the engine is new, for a new
   * catalog (its adoption is recorded even when the files did not change).
   */
  private async installFiles(engine: PolicyEngine, catalog: { reason: 'catalog'; tools: number } | null): Promise<ReloadResult> {
    const previous = this.current.revision;
    const files = await readPolicyDir(this.dir).catch(() => []);
    const result = files.length === 0
      ? { ok: false as const, problems: [{ file: this.dir, line: 0, message: 'no .cedar files: every call would be denied' }] }
      : engine.install(files);
    if (!result.ok) {
      await this.events.record({
        type: 'policy.reload_fail',
        outcome: 'failure',
        actor: SYSTEM,
        subject: previous,
        data: { ...(catalog ?? {}), problems: result.problems.slice(0, 20).map((p) => ({ ...p })) },
      });
      return { ok: false, problems: result.problems, revision: previous };
    }
    this.current = engine;
    if (catalog || result.set.revision !== previous) {
      await this.events.record({
        type: 'policy.reload',
        outcome: 'success',
        actor: SYSTEM,
        subject: result.set.revision,
        data: { previous, ...(catalog ?? {}), files: files.map((f) => f.name), policies: result.set.policies.size },
      });
    }
    return { ok: true, revision: result.set.revision, policies: result.set.policies.size };
  }
}
