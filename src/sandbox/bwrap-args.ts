import { dirname } from 'node:path';
import { SANDBOX_RUN_DIR, SANDBOX_SCRATCH } from './sandbox-config.js';

/** Inside the sandbox, where the egress socket is. */
export const EGRESS_SOCKET = `${SANDBOX_RUN_DIR}/egress.sock`;

/** A top-level system entry as the host has it: a directory, or a symlink (merged /usr). */
export interface SystemEntry {
  readonly path: string;
  /** The link's own text, when the entry is a symlink (`usr/bin` for `/bin`). */
  readonly symlink?: string;
}

/** Everything the sandbox is made of, resolved on the host (paths exist, symlinks known). */
export interface SandboxPlan {
  /**
   * Warden runs as root: bubblewrap builds the sandbox with root's view of the file system (no
   * user namespace), and `setpriv` drops to `runAs` with no capabilities before the command.
   * Otherwise bubblewrap runs unprivileged in a user namespace, as Warden's own user.
   */
  readonly privileged: {
    readonly setpriv: string;
    readonly uid: number;
    readonly gid: number;
    /**
     * bubblewrap again, run as the sandbox user inside the sandbox, only to give it a user
     * namespace in which no further one can be made (`--disable-userns`). Absent where the host
     * lets no unprivileged user make one anyway.
     */
    readonly innerBwrap?: string;
  } | null;
  readonly system: readonly SystemEntry[];
  /** Host paths visible read-only at the same place (Warden's installation, Node). */
  readonly exposed: readonly SystemEntry[];
  readonly mounts: readonly { readonly source: string; readonly target: string; readonly writable: boolean }[];
  /** Paths that must not be seen even though a parent is visible: Warden's data directory, key files. */
  readonly hide: readonly { readonly path: string; readonly dir: boolean }[];
  /** The sandbox's private scratch directory on the host, writable inside at /scratch. */
  readonly scratch: string;
  /** The Unix socket of Warden's egress proxy for this sandbox, on the host. */
  readonly socket: string;
  readonly cwd: string;
  readonly tmpBytes: number;
  /** What runs inside, as argv (the relay, then the command). */
  readonly command: readonly string[];
}

/**
 * The command prefix that leaves root behind: `setpriv` to the sandbox user with every
 * capability set emptied and `no_new_privs`, then (where the host allows unprivileged user
 * namespaces at all) a user namespace that forbids making more.
 */
export function dropTo(p: NonNullable<SandboxPlan['privileged']>): string[] {
  return [
    p.setpriv, `--reuid=${p.uid}`, `--regid=${p.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--',
    // --dev-bind: a plain --bind would remount /dev/null and the rest nodev, and opening them fail.
    ...(p.innerBwrap ? [p.innerBwrap, '--unshare-user', '--disable-userns', '--dev-bind', '/', '/', '--'] : []),
  ];
}

const within = (path: string, dir: string): boolean => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);

/** Every ancestor of `path`, outermost first, without `/` and without `path` itself. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let d = dirname(path); d !== '/' && d !== '.'; d = dirname(d)) out.unshift(d);
  return out;
}

/**
 * The bubblewrap command line for a plan. Order matters to bubblewrap (each option acts on the
 * tree built so far), and to us:
 * 1. namespaces: IPC, PID, network (loopback only), UTS, cgroup; no new user namespaces inside;
 * 2. the read-only system (`/usr`, `/etc`, merged-/usr symlinks), fresh `/proc`, minimal `/dev`,
 *    a private `/tmp` bounded in size;
 * 3. Warden's installation and Node, read-only; declared mounts; the scratch directory; the
 *    egress socket;
 * 4. tmpfs (or /dev/null) over whatever of Warden's data or keys a visible parent would show;
 * 5. the root itself read-only, then the command.
 * Parent directories bubblewrap has to create are created 0755 explicitly: by default it copies
 * the host parents' modes, and a 0700 host parent would lock the sandbox's user out.
 */
export function bwrapArgs(plan: SandboxPlan): string[] {
  const a: string[] = [];
  if (plan.privileged) a.push('--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try');
  else a.push('--unshare-user', '--disable-userns', '--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try');
  a.push('--die-with-parent', '--new-session', '--hostname', 'warden-sandbox');

  const made = new Set<string>();
  const bound: string[] = [];
  /** What each bind shows where: host source → place inside. */
  const shown: { source: string; target: string }[] = [];
  const dirsFor = (target: string): void => {
    for (const d of ancestors(target)) {
      if (made.has(d) || bound.some((b) => within(d, b))) continue;
      a.push('--perms', '0755', '--dir', d);
      made.add(d);
    }
  };
  const place = (entry: SystemEntry, flag: '--ro-bind' | '--bind'): void => {
    dirsFor(entry.path);
    if (entry.symlink !== undefined) a.push('--symlink', entry.symlink, entry.path);
    else {
      a.push(flag, entry.path, entry.path);
      shown.push({ source: entry.path, target: entry.path });
    }
    bound.push(entry.path);
  };

  for (const s of plan.system) place(s, '--ro-bind');
  a.push('--proc', '/proc', '--dev', '/dev', '--perms', '1777', '--size', String(plan.tmpBytes), '--tmpfs', '/tmp');
  for (const e of plan.exposed) place(e, '--ro-bind');
  for (const m of plan.mounts) {
    dirsFor(m.target);
    a.push(m.writable ? '--bind' : '--ro-bind', m.source, m.target);
    bound.push(m.target);
    shown.push({ source: m.source, target: m.target });
  }
  a.push('--bind', plan.scratch, SANDBOX_SCRATCH);
  a.push('--perms', '0755', '--dir', '/run', '--perms', '0755', '--dir', SANDBOX_RUN_DIR, '--bind', plan.socket, EGRESS_SOCKET);
  // Wherever a bind shows a hidden path, under whatever name it has inside.
  const hidden = new Set<string>();
  for (const h of plan.hide) {
    for (const s of shown) {
      if (!within(h.path, s.source)) continue;
      const inside = s.target + h.path.slice(s.source.length);
      if (hidden.has(inside)) continue;
      hidden.add(inside);
      if (h.dir) a.push('--perms', '0000', '--size', '4096', '--tmpfs', inside);
      else a.push('--ro-bind', '/dev/null', inside);
    }
  }
  a.push('--remount-ro', '/', '--chdir', plan.cwd, '--');
  if (plan.privileged) {
    const p = plan.privileged;
    a.push(...dropTo(p));
  }
  a.push(...plan.command);
  return a;
}
