import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxLimits } from './sandbox-config.js';

/** The limits a group enforces, resolved (wall time is kept by the host, not the kernel). */
export type ResourceLimits = Pick<Required<SandboxLimits>, 'memoryMb' | 'pids' | 'cpus'>;

export type LimitHit = 'memory' | 'pids';

/**
 * One sandbox's cgroup: memory (swap included), process count and CPU quota for every process
 * in it. The launcher writes its own pid into `procsFiles` before it execs bubblewrap, so the
 * sandbox is inside from its first instruction and no child can start outside it.
 */
export interface LimitGroup {
  readonly enforcedBy: 'cgroup-v1' | 'cgroup-v2';
  readonly procsFiles: readonly string[];
  /** The limits the kernel reports as hit so far (read synchronously: called as a session ends). */
  hits(): LimitHit[];
  /** SIGKILLs every process still in the group, until it is empty (bounded). */
  killAll(): Promise<void>;
  /** Kills what is left and removes the group. Idempotent. */
  remove(): Promise<void>;
}

/** The hierarchies a host offers, found once: where sandbox groups are made. */
export interface CgroupSupport {
  readonly version: 1 | 2;
  create(name: string, limits: ResourceLimits): Promise<LimitGroup>;
}

const CPU_PERIOD_US = 100_000;

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** `key value` lines (memory.oom_control, pids.events, memory.events) as numbers. */
function counters(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

function pidsIn(dirs: readonly string[]): number[] {
  const pids = new Set<number>();
  for (const dir of dirs) {
    for (const line of read(join(dir, 'cgroup.procs')).split('\n')) if (/^\d+$/.test(line)) pids.add(Number(line));
  }
  return [...pids];
}

async function killAllIn(dirs: readonly string[], kill?: () => void): Promise<void> {
  for (let round = 0; round < 100; round++) {
    if (kill) kill();
    const pids = pidsIn(dirs);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await sleep(round < 10 ? 10 : 50);
  }
}

async function removeDirs(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    for (let i = 0; i < 50; i++) {
      try {
        await rmdir(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        // EBUSY while the last exited processes are still being reaped.
        await sleep(20);
      }
    }
  }
}

/** `/proc/self/cgroup` and `/proc/self/mounts`: this process's place in each hierarchy. */
interface Hierarchy {
  readonly version: 1 | 2;
  readonly mount: string;
  readonly controllers: readonly string[];
  readonly own: string;
}

function hierarchies(): Hierarchy[] {
  const own = new Map<string, string>();
  for (const line of read('/proc/self/cgroup').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) own.set(m[1]!, m[2]!);
  }
  const found: Hierarchy[] = [];
  for (const line of read('/proc/self/mounts').split('\n')) {
    const [, mount, type, options] = line.split(' ');
    if (!mount) continue;
    if (type === 'cgroup2') found.push({ version: 2, mount, controllers: read(join(mount, 'cgroup.controllers')).trim().split(/\s+/).filter(Boolean), own: own.get('') ?? '/' });
    if (type === 'cgroup') {
      const controllers = (options ?? '').split(',').filter((o) => ['memory', 'pids', 'cpu', 'cpuacct', 'freezer'].includes(o));
      const key = [...own.keys()].find((k) => k.split(',').some((c) => controllers.includes(c)));
      if (controllers.length > 0 && key !== undefined) found.push({ version: 1, mount, controllers, own: own.get(key)! });
    }
  }
  return found;
}

/** A parent directory for sandbox groups beside Warden's own group: made (and thereby proven writable) now. */
async function parentDir(h: Hierarchy): Promise<string | undefined> {
  const dir = join(h.mount, h.own, 'warden-sandboxes');
  try {
    await mkdir(dir, { recursive: true });
  } catch {
    return undefined;
  }
  await sweepStale(dir);
  return dir;
}

/**
 * Removes the empty groups a Warden that died without closing its sandboxes left behind
 * (`<upstream>-<pid>-<n>`, that pid gone). A group with a process in it stays.
 */
async function sweepStale(dir: string): Promise<void> {
  const names = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of names) {
    const m = /-(\d+)-\d+$/.exec(entry.name);
    if (!entry.isDirectory() || !m || Number(m[1]) === process.pid || processExists(Number(m[1]))) continue;
    if (pidsIn([join(dir, entry.name)]).length === 0) await rmdir(join(dir, entry.name)).catch(() => undefined);
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** cgroup v1: one group per controller (memory, pids, cpu), each beside Warden's own. */
async function v1Support(): Promise<CgroupSupport | undefined> {
  const hs = hierarchies().filter((h) => h.version === 1);
  const find = (c: string) => hs.find((h) => h.controllers.includes(c));
  const memory = find('memory');
  const pids = find('pids');
  const cpu = find('cpu');
  if (!memory || !pids || !cpu) return undefined;
  const [mp, pp, cp] = await Promise.all([parentDir(memory), parentDir(pids), parentDir(cpu)]);
  if (!mp || !pp || !cp) return undefined;
  return {
    version: 1,
    async create(name, limits) {
      const m = join(mp, name);
      const p = join(pp, name);
      const c = join(cp, name);
      const dirs = [...new Set([m, p, c])];
      try {
        for (const d of dirs) await mkdir(d);
        const bytes = String(limits.memoryMb * 1024 * 1024);
        writeFileSync(join(m, 'memory.limit_in_bytes'), bytes);
        // memsw counts memory + swap; without it a hog would simply swap (absent when swap accounting is off).
        if (existsSync(join(m, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(m, 'memory.memsw.limit_in_bytes'), bytes);
        writeFileSync(join(p, 'pids.max'), String(limits.pids));
        writeFileSync(join(c, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
        writeFileSync(join(c, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US))));
      } catch (err) {
        await removeDirs(dirs);
        throw err;
      }
      return group('cgroup-v1', dirs, () => {
        const hits: LimitHit[] = [];
        if ((counters(read(join(m, 'memory.oom_control'))).get('oom_kill') ?? 0) > 0) hits.push('memory');
        if ((counters(read(join(p, 'pids.events'))).get('max') ?? 0) > 0) hits.push('pids');
        return hits;
      });
    },
  };
}

/** cgroup v2: one group with the three controllers enabled for it. */
async function v2Support(): Promise<CgroupSupport | undefined> {
  const h = hierarchies().find((x) => x.version === 2 && ['memory', 'pids', 'cpu'].every((c) => x.controllers.includes(c)));
  if (!h) return undefined;
  // A v2 group hands controllers to its children only while it holds no process itself, and
  // Warden's own group holds Warden. So the parent goes beside it where that group delegates
  // them already, else at the top of the hierarchy (root may enable them there).
  let parent: string | undefined;
  for (const base of [...new Set([join(h.mount, h.own), h.mount])]) {
    try {
      const enabled = read(join(base, 'cgroup.subtree_control')).split(/\s+/);
      const missing = ['memory', 'pids', 'cpu'].filter((c) => !enabled.includes(c));
      if (missing.length > 0) writeFileSync(join(base, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
      const dir = join(base, 'warden-sandboxes');
      await mkdir(dir, { recursive: true });
      // It holds no process of its own, so it may hand the controllers down to each sandbox.
      writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory +pids +cpu');
      await sweepStale(dir);
      parent = dir;
      break;
    } catch {
      // Not here: try the next place, or there is no usable v2 hierarchy.
    }
  }
  if (!parent) return undefined;
  const groups = parent;
  return {
    version: 2,
    async create(name, limits) {
      const dir = join(groups, name);
      try {
        await mkdir(dir);
        writeFileSync(join(dir, 'memory.max'), String(limits.memoryMb * 1024 * 1024));
        if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
        writeFileSync(join(dir, 'pids.max'), String(limits.pids));
        writeFileSync(join(dir, 'cpu.max'), `${Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US))} ${CPU_PERIOD_US}`);
      } catch (err) {
        await removeDirs([dir]);
        throw err;
      }
      return group('cgroup-v2', [dir], () => {
        const hits: LimitHit[] = [];
        if ((counters(read(join(dir, 'memory.events'))).get('oom_kill') ?? 0) > 0) hits.push('memory');
        if ((counters(read(join(dir, 'pids.events'))).get('max') ?? 0) > 0) hits.push('pids');
        return hits;
      }, () => {
        try {
          writeFileSync(join(dir, 'cgroup.kill'), '1');
        } catch {
          // Before Linux 5.14: killed one by one below.
        }
      });
    },
  };
}

function group(enforcedBy: LimitGroup['enforcedBy'], dirs: readonly string[], hits: () => LimitHit[], killNow?: () => void): LimitGroup {
  let removing: Promise<void> | undefined;
  return {
    enforcedBy,
    procsFiles: dirs.map((d) => join(d, 'cgroup.procs')),
    hits,
    killAll: () => killAllIn(dirs, killNow),
    remove() {
      removing ??= killAllIn(dirs, killNow).then(() => removeDirs(dirs));
      return removing;
    },
  };
}

let detected: Promise<CgroupSupport | undefined> | undefined;

/**
 * The cgroup hierarchy sandboxes can use on this host (v1 with memory, pids and cpu mounted,
 * or v2 with them delegated), or undefined when there is none Warden may write to. Found once.
 */
export function detectCgroups(): Promise<CgroupSupport | undefined> {
  detected ??= (async () => {
    if (typeof process.getuid === 'function' && process.getuid() !== 0 && !existsSync('/sys/fs/cgroup/cgroup.controllers')) return undefined;
    return (await v1Support()) ?? (await v2Support());
  })().catch(() => undefined);
  return detected;
}
