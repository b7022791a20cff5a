import { spawn } from 'node:child_process';
import { constants, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { access, chmod, chown, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WardenError } from '../errors/warden-error.js';
import type { EventLog } from '../events/event-log.js';
import { SYSTEM } from '../events/event-log.js';
import { isAlive, trackChild, untrackChild } from '../mcp-gateway/upstreams/child-reaper.js';
import { Capture, signalName, type CapturedStream } from './captured-output.js';
import { trackRunDir, runDirs } from './run-dirs.js';
import { bwrapArgs, dropTo, EGRESS_SOCKET, type SandboxPlan, type SystemEntry } from './bwrap-args.js';
import { detectCgroups, type CgroupSupport, type LimitGroup } from './limit-group.js';
import {
  DEFAULT_EXEC_WALL_TIME_SEC,
  DEFAULT_SERVER_WALL_TIME_SEC,
  SANDBOX_HOST_DEFAULTS,
  SANDBOX_SCRATCH,
  type Sandbox,
  type SandboxHostConfig,
} from './sandbox-config.js';

/** Makes Node's fetch use the egress proxy inside a sandbox on Node before 24 (part of Warden's installation, visible there). */
// A file URL: spaces and quotes in the path are escaped in it, so NODE_OPTIONS splits it right.
const ENV_PROXY_PRELOAD = new URL('./env-proxy-preload.js', import.meta.url).href;

/** Who a sandbox's egress requests are decided for (see SandboxEgress). */
export interface EgressIdentity {
  /** The upstream the sandbox belongs to. */
  readonly upstream: string;
  /** The HTTP upstreams it may reach (its `sandbox.egress`). */
  readonly egress: readonly string[];
  /** For one `exec` command: the call it runs for; that call's task is the only one it acts for. */
  readonly callId?: string;
}

/** Serves one sandbox's egress socket until closed. */
export interface EgressServer {
  listen(socketPath: string, identity: EgressIdentity): Promise<{ close(): Promise<void> }>;
}

export type SandboxLimitHit = 'memory' | 'pids' | 'wall-time';

/** What listings and `upstream.start` entries say about a sandbox: no secrets, no paths of Warden's. */
export interface SandboxSummary {
  /** The user sandboxed processes run as: `runAs` when Warden is root, else Warden's own user in a user namespace. */
  readonly uid: number;
  readonly gid: number;
  readonly limits: { readonly memoryMb: number; readonly pids: number; readonly cpus: number; readonly wallTimeSec: number };
  /** How the memory, pids and CPU limits are enforced: a cgroup, or rlimits (per process, weaker). */
  readonly enforcedBy: 'cgroup-v1' | 'cgroup-v2' | 'rlimit';
  readonly egress: readonly string[];
  readonly mounts: readonly { readonly path: string; readonly at: string; readonly writable: boolean }[];
}

/** One sandbox, ready to be spawned: the command line and environment of its launcher. */
export interface SandboxLaunch {
  readonly command: string;
  readonly args: readonly string[];
  /** The sandbox's whole environment (bubblewrap passes it through unchanged). */
  readonly env: Readonly<Record<string, string>>;
  readonly summary: SandboxSummary;
  /** Call with the launcher's pid once spawned: starts the wall-time clock and the limit watch. */
  started(pid: number): void;
  /** The limit that killed the sandbox, if one did (read from the kernel as the sandbox ends). */
  limitHit(): SandboxLimitHit | undefined;
  /** Kills what is left, removes the cgroup, closes the egress socket, records a limit hit. Idempotent. */
  release(): Promise<void>;
}

export interface LaunchSpec {
  readonly upstream: string;
  readonly sandbox: Sandbox;
  /** The private scratch directory on the host (made and owned by the sandbox user here). */
  readonly scratch: string;
  /** Declared variables and injected secrets; nothing else of Warden's environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly command: string;
  readonly args: readonly string[];
  /** Inside the sandbox (default: the scratch directory). */
  readonly cwd?: string;
  readonly wallTimeSec: number;
  readonly callId?: string;
}

export interface SandboxHostOptions {
  readonly config?: SandboxHostConfig;
  /** Where scratch directories live (`<data-dir>/sandboxes`). */
  readonly stateDir: string;
  /** Never visible in a sandbox, whatever is mounted: Warden's data directory, key files. */
  readonly hide?: readonly string[];
  readonly egress: EgressServer;
  readonly events?: EventLog;
  readonly logger?: { warn(obj: object, msg: string): void };
}

const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc'];
const TMP_BYTES = 64 * 1024 * 1024;
const LIMIT_WATCH_MS = 200;
const within = (path: string, dir: string): boolean => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);

/**
 * The launcher Warden spawns: joins the sandbox's cgroups (its pid, before anything else runs),
 * then execs the rest of its arguments (prlimit and/or bubblewrap). `$$` stays the same pid
 * through the exec, so the pid Warden holds is bubblewrap's.
 */
const LAUNCHER = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; exec "$@"';

function findOnPath(name: string): string | undefined {
  if (name.includes('/')) return name;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

async function executable(path: string | undefined): Promise<boolean> {
  if (!path) return false;
  try {
    await access(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function entryOf(path: string): SystemEntry | undefined {
  try {
    const st = lstatSync(path);
    return st.isSymbolicLink() ? { path, symlink: readlinkSync(path) } : { path };
  } catch {
    return undefined;
  }
}

/** The root of Warden's installation: the closest parent with Warden's package.json. */
function installRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'warden') return dir;
    } catch {
      // Not here.
    }
  }
  throw new TypeError('cannot find the Warden installation the sandbox relay belongs to');
}

/** Tools found on this host, proven to build a sandbox once. */
interface HostTools {
  readonly bwrap: string;
  readonly privileged: SandboxPlan['privileged'];
  readonly prlimit?: string;
  readonly cgroups: CgroupSupport | undefined;
}

/**
 * Builds sandboxes on this host (Linux namespaces through bubblewrap; docs/sandbox.md) for stdio
 * upstreams and `exec` commands, and fails closed: when a sandbox cannot be built, nothing
 * runs, with SANDBOX_UNAVAILABLE naming what is missing.
 */
export class SandboxHost {
  readonly config: SandboxHostConfig;
  private tools: Promise<HostTools> | undefined;
  private readonly system: readonly SystemEntry[];
  private readonly exposed: readonly SystemEntry[];
  private readonly hidden: readonly { path: string; dir: boolean }[];
  private readonly relay = fileURLToPath(new URL('./relay.js', import.meta.url));
  private seq = 0;

  constructor(private readonly o: SandboxHostOptions) {
    this.config = o.config ?? { ...SANDBOX_HOST_DEFAULTS, runAs: { ...SANDBOX_HOST_DEFAULTS.runAs } };
    this.system = SYSTEM_PATHS.map(entryOf).filter((e): e is SystemEntry => e !== undefined);
    this.hidden = [o.stateDir, ...(o.hide ?? [])].flatMap((path) => {
      try {
        return [{ path, dir: statSync(path).isDirectory() }];
      } catch {
        return [{ path, dir: true }];
      }
    });
    this.exposed = this.findExposed();
  }

  /** The user sandboxed processes run as on this host. */
  get runAs(): { uid: number; gid: number } {
    const root = process.getuid?.() === 0;
    return root ? this.config.runAs : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  }

  /**
   * Warden's installation (its code, the relay, node_modules with the servers it ships) and
   * Node itself, read-only. Each top-level entry of the installation is placed on its own, so a
   * parent directory the sandbox user may not enter (a 0700 checkout) does not hide them;
   * dot-entries (`.git`, `.env`, `.warden`) are left out.
   */
  private findExposed(): SystemEntry[] {
    const out: SystemEntry[] = [];
    const add = (path: string): void => {
      if (this.system.some((s) => within(path, s.path)) || out.some((e) => within(path, e.path))) return;
      if (this.hidden.some((h) => within(path, h.path))) return;
      const entry = entryOf(path);
      if (!entry) return;
      if (entry.symlink !== undefined) {
        try {
          add(realpathSync(path));
        } catch {
          return;
        }
      }
      out.push(entry);
    };
    const root = installRoot();
    for (const name of readdirSync(root).sort()) if (!name.startsWith('.')) add(join(root, name));
    add(dirname(dirname(realpathSync(process.execPath))));
    return out;
  }

  /**
   * Finds bubblewrap (and setpriv when Warden is root) and builds one throwaway sandbox with
   * them; a success is remembered, a failure is tried again next time.
   *
   * @throws WardenError SANDBOX_UNAVAILABLE naming what is missing.
   */
  check(upstream: string): Promise<HostTools> {
    if (this.tools) return this.tools;
    const probing = this.probe(upstream);
    this.tools = probing;
    probing.catch(() => {
      if (this.tools === probing) this.tools = undefined;
    });
    return probing;
  }

  private async probe(upstream: string): Promise<HostTools> {
    const missing = (what: string, extra: Record<string, string> = {}) => new WardenError('SANDBOX_UNAVAILABLE', { upstream, missing: what, ...extra });
    const bwrap = findOnPath(this.config.bwrap);
    if (!(await executable(bwrap))) throw missing('bwrap', { path: this.config.bwrap });
    let privileged: HostTools['privileged'] = null;
    if (process.getuid?.() === 0) {
      const setpriv = findOnPath('setpriv');
      if (!(await executable(setpriv))) throw missing('setpriv');
      privileged = { setpriv: setpriv!, ...this.config.runAs };
    }
    let cgroups: CgroupSupport | undefined;
    let prlimit: string | undefined;
    if (this.config.limitsWith !== 'rlimit') cgroups = await detectCgroups();
    if (!cgroups && this.config.limitsWith === 'cgroup') throw missing('cgroups');
    if (!cgroups) {
      prlimit = findOnPath('prlimit');
      if (!(await executable(prlimit))) throw missing('prlimit');
    }
    const inner = privileged && this.system.some((s) => within(bwrap!, s.path)) ? bwrap! : undefined;
    const tryOnce = (p: HostTools['privileged']) => {
      const args = [
        ...(p ? ['--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts'] : ['--unshare-user', '--disable-userns', '--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts']),
        '--die-with-parent',
        ...this.system.flatMap((s) => (s.symlink !== undefined ? ['--symlink', s.symlink, s.path] : ['--ro-bind', s.path, s.path])),
        // The inner bubblewrap builds its root on /tmp, as it will in a real sandbox.
        '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--',
        ...(p ? dropTo(p) : []),
        '/bin/sh', '-c', 'exit 0',
      ];
      return new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(bwrap!, args, { env: {}, stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
        let text = '';
        child.stderr.on('data', (c: Buffer) => (text = (text + c.toString('utf8')).slice(-2000)));
        child.on('error', () => resolve({ code: null, stderr: text }));
        child.on('close', (c) => resolve({ code: c, stderr: text }));
      });
    };
    // As root: with the inner user namespace that forbids more of them, if this host lets the
    // sandbox user make one at all; where it does not, that door is shut already.
    let { code, stderr } = await tryOnce(privileged && inner ? { ...privileged, innerBwrap: inner } : privileged);
    if (code === 0 && privileged && inner) privileged = { ...privileged, innerBwrap: inner };
    else if (code !== 0 && privileged && inner) ({ code, stderr } = await tryOnce(privileged));
    if (code !== 0) {
      this.o.logger?.warn({ upstream, bwrap, exitCode: code, stderr: stderr.trim() }, 'bubblewrap could not build a sandbox');
      throw missing(/namespace|uid map|unshare|Operation not permitted|No permissions/i.test(stderr) ? 'namespaces' : 'bwrap-failed');
    }
    return { bwrap: bwrap!, privileged, cgroups, ...(prlimit ? { prlimit } : {}) };
  }

  /**
   * Whether `command` (a path, or a name looked up on `path`, the sandbox's PATH) names an
   * executable file the sandbox can see: under the read-only system, Warden's installation, or
   * one of `sandbox`'s mounts.
   */
  commandVisible(command: string, path: string, sandbox: Sandbox): boolean {
    const candidates = command.includes('/') ? [command] : path.split(':').filter((d) => d.startsWith('/')).map((d) => join(d, command));
    return candidates.some((inside) => {
      const st = this.statInside(inside, sandbox);
      return st !== undefined && st.isFile() && (st.mode & 0o111) !== 0;
    });
  }

  /** Whether `dir` is a directory the sandbox can see (a `cwd`). */
  directoryVisible(dir: string, sandbox: Sandbox): boolean {
    return dir === SANDBOX_SCRATCH || this.statInside(dir, sandbox)?.isDirectory() === true;
  }

  /** What a path inside the sandbox is on the host, if the sandbox shows it at all. */
  private statInside(inside: string, sandbox: Sandbox): Stats | undefined {
    const mount = sandbox.mounts.find((m) => within(inside, m.at ?? m.path));
    const host = mount ? join(mount.path, inside.slice((mount.at ?? mount.path).length)) : inside;
    if (!mount && !this.system.some((s) => within(inside, s.path)) && !this.exposed.some((e) => within(inside, e.path))) return undefined;
    if (this.hidden.some((h) => within(host, h.path))) return undefined;
    try {
      return statSync(host);
    } catch {
      return undefined;
    }
  }

  /** A directory the sandbox user owns (0700): a scratch directory. */
  async ownedDir(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await mkdir(path, { recursive: true, mode: 0o700 });
    const { uid, gid } = this.runAs;
    if (process.getuid?.() === 0) await chown(path, uid, gid);
    await chmod(path, 0o700);
  }

  /**
   * Prepares one sandbox: checks the host, makes its cgroup and scratch directory, starts its
   * egress socket, and returns the launcher to spawn. Nothing runs yet.
   *
   * @throws WardenError SANDBOX_UNAVAILABLE.
   */
  async launch(spec: LaunchSpec): Promise<SandboxLaunch> {
    const tools = await this.check(spec.upstream);
    const s = spec.sandbox;
    const limits = { memoryMb: s.limits.memoryMb, pids: s.limits.pids, cpus: s.limits.cpus, wallTimeSec: spec.wallTimeSec };
    const mounts = s.mounts.map((m) => ({ source: m.path, target: m.at ?? m.path, writable: m.writable }));
    for (const m of mounts) {
      if (!existsSync(m.source)) throw new WardenError('SANDBOX_UNAVAILABLE', { upstream: spec.upstream, missing: 'mount-source', path: m.source });
      if (this.hidden.some((h) => within(m.source, h.path))) throw new WardenError('SANDBOX_UNAVAILABLE', { upstream: spec.upstream, missing: 'mount-source', path: m.source, reason: 'warden-data' });
    }
    await this.ownedDir(spec.scratch);

    const runDir = await mkdtemp(join(tmpdir(), `warden-sb-${process.pid}-`));
    trackRunDir(runDir);
    const socket = join(runDir, 'egress.sock');
    let group: LimitGroup | undefined;
    let egress: { close(): Promise<void> } | undefined;
    try {
      egress = await this.o.egress.listen(socket, { upstream: spec.upstream, egress: s.egress, ...(spec.callId ? { callId: spec.callId } : {}) });
      // The sandbox user connects to it through the bind mount; the directory keeps everyone else out.
      await chmod(socket, 0o666);
      if (tools.cgroups) group = await tools.cgroups.create(`${spec.upstream}-${process.pid}-${++this.seq}`, limits);
    } catch (err) {
      await egress?.close();
      await rm(runDir, { recursive: true, force: true });
      runDirs.delete(runDir);
      if (err instanceof WardenError) throw err;
      throw new WardenError('SANDBOX_UNAVAILABLE', { upstream: spec.upstream, missing: 'cgroups' }, { cause: err });
    }

    const port = this.config.proxyPort;
    const proxy = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      ...spec.env,
      HOME: spec.env.HOME ?? SANDBOX_SCRATCH,
      TMPDIR: '/tmp',
      // The only way out: Warden's egress proxy, relayed from loopback to the socket.
      HTTP_PROXY: proxy,
      HTTPS_PROXY: proxy,
      http_proxy: proxy,
      https_proxy: proxy,
      NO_PROXY: 'localhost,127.0.0.1,::1',
      no_proxy: 'localhost,127.0.0.1,::1',
      // Node 24+ honours HTTP_PROXY in fetch and http with this (earlier versions ignore it);
      // before that, fetch is sent through the proxy by a preload (env-proxy-preload.ts).
      NODE_USE_ENV_PROXY: '1',
      NODE_OPTIONS: [spec.env.NODE_OPTIONS, `--import=${ENV_PROXY_PRELOAD}`].filter(Boolean).join(' '),
    };
    const plan: SandboxPlan = {
      privileged: tools.privileged,
      system: this.system,
      exposed: this.exposed,
      mounts,
      // A path that does not exist (a key given by environment instead of a file) cannot be shown either.
      hide: this.hidden.filter((h) => existsSync(h.path)),
      scratch: spec.scratch,
      socket,
      cwd: spec.cwd ?? SANDBOX_SCRATCH,
      tmpBytes: TMP_BYTES,
      command: [process.execPath, '--max-old-space-size=32', '--v8-pool-size=1', this.relay, String(port), EGRESS_SOCKET, '--', spec.command, ...spec.args],
    };
    const rlimits = group || !tools.prlimit ? [] : [tools.prlimit, `--nproc=${limits.pids}`, `--data=${limits.memoryMb * 1024 * 1024}`, '--'];
    const procs = group?.procsFiles ?? [];
    const args = ['-c', LAUNCHER, 'warden-sandbox', String(procs.length), ...procs, ...rlimits, tools.bwrap, ...bwrapArgs(plan)];
    const { uid, gid } = this.runAs;
    const summary: SandboxSummary = {
      uid,
      gid,
      limits,
      enforcedBy: group?.enforcedBy ?? 'rlimit',
      egress: [...s.egress],
      mounts: s.mounts.map((m) => ({ path: m.path, at: m.at ?? m.path, writable: m.writable })),
    };
    return this.track(spec, { command: '/bin/sh', args, env, summary }, group, async () => {
      await egress?.close();
      await rm(runDir, { recursive: true, force: true });
      runDirs.delete(runDir);
    });
  }

  /** The life of one launched sandbox: its wall clock, the limit watch, and its release. */
  private track(
    spec: LaunchSpec,
    launch: Pick<SandboxLaunch, 'command' | 'args' | 'env' | 'summary'>,
    group: LimitGroup | undefined,
    cleanup: () => Promise<void>,
  ): SandboxLaunch {
    let pid: number | undefined;
    let hit: SandboxLimitHit | undefined;
    let wall: NodeJS.Timeout | undefined;
    let watch: NodeJS.Timeout | undefined;
    let releasing: Promise<void> | undefined;
    const kill = (why: SandboxLimitHit): void => {
      hit ??= why;
      // bubblewrap's death takes the whole PID namespace with it; the cgroup sweep catches stragglers.
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      void group?.killAll();
    };
    const limitHit = (): SandboxLimitHit | undefined => hit ?? group?.hits()[0];
    return {
      ...launch,
      started: (p) => {
        pid = p;
        wall = setTimeout(() => kill('wall-time'), spec.wallTimeSec * 1000);
        wall.unref();
        if (group) {
          watch = setInterval(() => {
            const h = group.hits()[0];
            if (h) kill(h);
          }, LIMIT_WATCH_MS);
          watch.unref();
        }
      },
      limitHit,
      release: () => {
        releasing ??= (async () => {
          clearTimeout(wall);
          clearInterval(watch);
          const why = limitHit();
          if (pid !== undefined && isAlive(pid)) kill(why ?? 'wall-time');
          await group?.remove();
          await cleanup();
          if (why) {
            this.o.logger?.warn({ upstream: spec.upstream, limit: why }, 'sandbox killed at its limit');
            await this.o.events
              ?.record({
                type: 'sandbox.limit',
                outcome: 'failure',
                actor: SYSTEM,
                subject: spec.upstream,
                data: { upstream: spec.upstream, limit: why, limits: launch.summary.limits, enforcedBy: launch.summary.enforcedBy, ...(spec.callId ? { call: spec.callId } : {}) },
              })
              .catch(() => undefined);
          }
        })();
        return releasing;
      },
    };
  }

  /** Wall time of a sandboxed server: its limit, or a day. */
  static serverWallTimeSec(s: Sandbox): number {
    return s.limits.wallTimeSec ?? DEFAULT_SERVER_WALL_TIME_SEC;
  }

  /** Longest time one exec command may take: its limit, or a minute. */
  static execWallTimeSec(s: Sandbox): number {
    return s.limits.wallTimeSec ?? DEFAULT_EXEC_WALL_TIME_SEC;
  }

  /**
   * Runs one command in a fresh sandbox and waits for it: stdin written and closed, stdout and
   * stderr hashed in full and kept up to `maxOutputBytes` each, killed at `timeoutSec` (or at a
   * limit), released whatever happens.
   */
  async run(spec: LaunchSpec & { readonly stdin: Buffer; readonly maxOutputBytes: number; readonly signal?: AbortSignal }): Promise<RunOutcome> {
    const launch = await this.launch(spec);
    const started = performance.now();
    const out = new Capture(spec.maxOutputBytes);
    const err = new Capture(spec.maxOutputBytes);
    try {
      const child = spawn(launch.command, [...launch.args], { env: { ...launch.env }, stdio: ['pipe', 'pipe', 'pipe'] });
      const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal }));
      });
      if (child.pid === undefined) throw new WardenError('SANDBOX_UNAVAILABLE', { upstream: spec.upstream, missing: 'bwrap-failed' });
      trackChild(child.pid);
      launch.started(child.pid);
      const onAbort = (): void => void child.kill('SIGKILL');
      spec.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (c: Buffer) => out.write(c));
      child.stderr.on('data', (c: Buffer) => err.write(c));
      child.stdin.on('error', () => {});
      child.stdin.end(spec.stdin);
      const { code, signal } = await closed.finally(() => {
        spec.signal?.removeEventListener('abort', onAbort);
        untrackChild(child.pid!);
      });
      const limit = launch.limitHit();
      // bubblewrap reports a command killed by a signal as 128 + the signal's number.
      const bySignal = code !== null && code > 128 && code < 160 ? code - 128 : undefined;
      return {
        exitCode: signal || bySignal !== undefined ? null : code,
        signal: signal ?? (bySignal !== undefined ? signalName(bySignal) : null),
        timedOut: limit === 'wall-time',
        ...(limit && limit !== 'wall-time' ? { limit } : {}),
        stdout: out.result(),
        stderr: err.result(),
        durationMs: Math.round(performance.now() - started),
        summary: launch.summary,
      };
    } finally {
      await launch.release();
    }
  }
}

/**
 * Gives a directory tree to the user sandboxes run as (when Warden runs as root), so a
 * sandboxed server can write where a writable mount puts it. Does nothing for other users:
 * their sandboxes run as themselves.
 */
export async function handToSandboxUser(path: string, runAs: { uid: number; gid: number } = SANDBOX_HOST_DEFAULTS.runAs): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await chown(path, runAs.uid, runAs.gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await handToSandboxUser(child, runAs);
    else if (!entry.isSymbolicLink()) await chown(child, runAs.uid, runAs.gid);
  }
}

/** How one exec command ended, with what it wrote. */
export interface RunOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly limit?: 'memory' | 'pids';
  readonly stdout: CapturedStream;
  readonly stderr: CapturedStream;
  readonly durationMs: number;
  readonly summary: SandboxSummary;
}
