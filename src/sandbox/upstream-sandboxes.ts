import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WardenError } from '../errors/warden-error.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { EventLog } from '../events/event-log.js';
import type { BuiltinUpstream, StdioUpstream } from '../mcp-gateway/upstreams/upstream-config.js';
import { createExecServer } from './exec-server.js';
import type { InFlightCalls } from './in-flight-calls.js';
import { SandboxHost, type SandboxLaunch } from './sandbox-host.js';

/** What an upstream connection needs of sandboxing: a sandbox for a stdio server, the built-in servers. */
export interface UpstreamSandboxing {
  /**
   * Prepares the sandbox of a stdio upstream whose config does not turn it off.
   *
   * @throws WardenError SANDBOX_UNAVAILABLE when this host cannot build it.
   */
  prepare(upstream: StdioUpstream, env: Readonly<Record<string, string>>): Promise<SandboxLaunch>;
  /** The in-process server of a built-in upstream (`exec`), its variables and secrets resolved. */
  builtin(upstream: BuiltinUpstream, env: Readonly<Record<string, string>>): Server;
}

/** How often the scratch directories of finished tasks are looked for. */
const TASK_SWEEP_MS = 60_000;

/**
 * Sandboxing for the upstreams of one Warden: each stdio server's scratch directory is
 * `<state-dir>/<name>/scratch`, kept across restarts; `exec` keeps one per task under
 * `<state-dir>/<name>/tasks/`, removed once the task has ended. Neither is visible to any other
 * sandbox.
 */
export class UpstreamSandboxes implements UpstreamSandboxing {
  private readonly sweeper: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;

  constructor(
    readonly host: SandboxHost,
    private readonly deps: {
      readonly stateDir: string;
      readonly calls: InFlightCalls;
      readonly events?: EventLog;
      /** Whether a task can run nothing more (ended, revoked, expired, unknown). */
      readonly taskEnded?: (taskId: string) => Promise<boolean>;
      /** The `exec` upstreams, whose per-task scratch directories are swept. */
      readonly execUpstreams?: readonly string[];
    },
  ) {
    if (deps.taskEnded && deps.execUpstreams?.length) {
      this.sweeper = setInterval(() => void this.sweepTaskScratch().catch(() => undefined), TASK_SWEEP_MS);
      this.sweeper.unref();
    }
  }

  /**
   * Removes the `exec` scratch directories of tasks that have ended: what a task's commands
   * wrote is its own, and nothing may run for it any more. Returns how many were removed.
   */
  sweepTaskScratch(): Promise<number> {
    this.sweeping ??= (async () => {
      let removed = 0;
      const ended = this.deps.taskEnded;
      if (!ended) return 0;
      for (const upstream of this.deps.execUpstreams ?? []) {
        const dir = join(this.deps.stateDir, upstream, 'tasks');
        let names: string[];
        try {
          names = await readdir(dir);
        } catch {
          continue; // no command has run yet
        }
        for (const task of names) {
          if (!(await ended(task))) continue;
          await rm(join(dir, task), { recursive: true, force: true });
          removed++;
        }
      }
      return removed;
    })().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  async prepare(upstream: StdioUpstream, env: Readonly<Record<string, string>>): Promise<SandboxLaunch> {
    if (upstream.sandbox === false) throw new TypeError(`upstream ${upstream.name} is not sandboxed`);
    // Caught here rather than as an early exit inside: the operator learns the command is not there to run.
    if (!this.host.commandVisible(upstream.command, env.PATH ?? '/usr/local/bin:/usr/bin:/bin', upstream.sandbox)) {
      throw new WardenError('UPSTREAM_UNAVAILABLE', { upstream: upstream.name, reason: 'spawn-failed', where: 'sandbox' });
    }
    if (upstream.cwd && !this.host.directoryVisible(upstream.cwd, upstream.sandbox)) {
      throw new WardenError('UPSTREAM_UNAVAILABLE', { upstream: upstream.name, reason: 'spawn-failed', where: 'sandbox', cwd: upstream.cwd });
    }
    return this.host.launch({
      upstream: upstream.name,
      sandbox: upstream.sandbox,
      scratch: join(this.deps.stateDir, upstream.name, 'scratch'),
      env,
      command: upstream.command,
      args: upstream.args,
      ...(upstream.cwd ? { cwd: upstream.cwd } : {}),
      wallTimeSec: SandboxHost.serverWallTimeSec(upstream.sandbox),
    });
  }

  builtin(upstream: BuiltinUpstream, env: Readonly<Record<string, string>>): Server {
    return createExecServer(upstream, env, { host: this.host, calls: this.deps.calls, stateDir: join(this.deps.stateDir, upstream.name), ...(this.deps.events ? { events: this.deps.events } : {}) });
  }
}
