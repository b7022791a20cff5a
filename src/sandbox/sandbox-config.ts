import { posix } from 'node:path';
import { z } from 'zod';

/**
 * An absolute host path in its normal form: no `..`, no `.`, no `//`, no trailing slash, no NUL
 * or newline. Paths are compared and nested by prefix, so a second spelling of one path would
 * be a way around a check.
 */
export const AbsolutePathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/') && posix.normalize(p) === p && (p === '/' || !p.endsWith('/')), 'an absolute path in normal form (no .., no trailing /)')
  .refine((p) => !/[\0\n\r]/.test(p), 'must not contain NUL or line breaks');

/** Where Warden puts its own things inside every sandbox; a mount may not cover them. */
export const SANDBOX_SCRATCH = '/scratch';
export const SANDBOX_RUN_DIR = '/run/warden';
const RESERVED_TARGETS = ['/', '/proc', '/dev', '/sys', '/tmp', SANDBOX_SCRATCH, SANDBOX_RUN_DIR, '/run'];
const within = (path: string, dir: string): boolean => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);

/** A host directory made visible inside, at the same path unless `at` says otherwise. */
export const SandboxMountSchema = z
  .object({
    path: AbsolutePathSchema.refine((p) => p !== '/', 'not the whole file system'),
    at: AbsolutePathSchema.optional(),
    /** Read-only unless set: a writable mount is where a tool's side effects land. */
    writable: z.boolean().default(false),
  })
  .strict()
  .superRefine((m, ctx) => {
    const target = m.at ?? m.path;
    if (RESERVED_TARGETS.some((r) => target === r) || ['/proc', '/dev', '/sys', SANDBOX_RUN_DIR].some((r) => within(target, r))) {
      ctx.addIssue({ code: 'custom', path: [m.at ? 'at' : 'path'], message: `cannot be mounted at ${target}: Warden's own place in the sandbox` });
    }
  });
export type SandboxMount = z.infer<typeof SandboxMountSchema>;

/**
 * Resource limits of one sandbox, enforced by a cgroup (memory, process count, CPU) or, where
 * no cgroup can be made, by rlimits (docs/sandbox.md). A sandbox past its memory or process
 * limit, or its wall time, is killed as a whole.
 */
export const SandboxLimitsSchema = z
  .object({
    /** Memory of every process in the sandbox together (swap included where the host counts it). */
    memoryMb: z.number().int().min(32).max(1024 * 1024).default(512),
    /** Processes and threads together: a fork bomb stops here and the sandbox is killed. */
    pids: z.number().int().min(16).max(65_536).default(256),
    /** CPU time per wall second, in CPUs (0.5 = half of one core). */
    cpus: z.number().min(0.01).max(1024).default(1),
    /**
     * Longest life of one sandbox: a server is killed past it (and restarted on its next call);
     * for `exec`, the longest any command may run. Default: a day for servers, 60 s for exec.
     */
    wallTimeSec: z.number().int().min(1).max(30 * 24 * 3600).optional(),
  })
  .strict();
export type SandboxLimits = z.infer<typeof SandboxLimitsSchema>;

const UpstreamNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'an HTTP upstream name');

/** How one stdio upstream (or the built-in `exec`) is sandboxed. */
export const SandboxSchema = z
  .object({
    limits: SandboxLimitsSchema.prefault({}),
    /**
     * The HTTP upstreams (`upstreams.http` names) the sandbox may reach through Warden's egress
     * proxy. Nothing else is reachable: the sandbox has no network of its own.
     */
    egress: z.array(UpstreamNameSchema).max(64).default([]),
    /** Host directories made visible, read-only unless `writable`. */
    mounts: z.array(SandboxMountSchema).max(16).default([]),
  })
  .strict()
  .superRefine((s, ctx) => {
    const targets = s.mounts.map((m) => m.at ?? m.path);
    targets.forEach((t, i) => {
      if (targets.indexOf(t) !== i) ctx.addIssue({ code: 'custom', path: ['mounts', i], message: 'two mounts at one place' });
    });
    if (new Set(s.egress).size !== s.egress.length) ctx.addIssue({ code: 'custom', path: ['egress'], message: 'each upstream once' });
  });
export type Sandbox = z.infer<typeof SandboxSchema>;

/**
 * `sandbox:` of a stdio upstream: settings, or `false` to run it unsandboxed. Absent means
 * sandboxed with the defaults. Turning it off is explicit, shown by `warden upstreams list` and
 * recorded in every `upstream.start` entry.
 */
export const UpstreamSandboxSchema = z.union([z.literal(false), SandboxSchema]).prefault({});
export type UpstreamSandbox = z.infer<typeof UpstreamSandboxSchema>;

/** Default wall time of a sandboxed server (a day) and of one `exec` command (a minute). */
export const DEFAULT_SERVER_WALL_TIME_SEC = 24 * 3600;
export const DEFAULT_EXEC_WALL_TIME_SEC = 60;

export const SANDBOX_HOST_DEFAULTS = {
  bwrap: 'bwrap',
  runAs: { uid: 65534, gid: 65534 },
  limitsWith: 'auto',
  proxyPort: 3128,
} as const;

/**
 * Top-level `sandbox:` of warden.yaml: how sandboxes are built on this host. Per-upstream
 * settings are under each upstream's own `sandbox:`.
 */
export const SandboxHostConfigSchema = z
  .object({
    /** The bubblewrap binary: a path, or a name looked up on PATH. Missing: sandboxed upstreams do not start. */
    bwrap: z
      .string()
      .min(1)
      .max(4096)
      .refine((p) => !/[\0\n\r]/.test(p), 'must not contain NUL or line breaks')
      .default(SANDBOX_HOST_DEFAULTS.bwrap),
    /**
     * The unprivileged user and group sandboxed processes run as when Warden runs as root
     * (otherwise they run as Warden's own user, in a user namespace). Never root.
     */
    runAs: z
      .object({
        uid: z.number().int().min(1).max(2 ** 32 - 2),
        gid: z.number().int().min(1).max(2 ** 32 - 2),
      })
      .strict()
      .default(SANDBOX_HOST_DEFAULTS.runAs),
    /**
     * How limits are enforced: `cgroup` (memory, pids, CPU; fails closed where no cgroup can be
     * made), `rlimit` (per-process limits only, weaker), or `auto` (cgroup where possible).
     */
    limitsWith: z.enum(['auto', 'cgroup', 'rlimit']).default(SANDBOX_HOST_DEFAULTS.limitsWith),
    /** The loopback port the egress proxy listens on inside each sandbox (HTTP_PROXY). */
    proxyPort: z.number().int().min(1).max(65535).default(SANDBOX_HOST_DEFAULTS.proxyPort),
  })
  .strict();
export type SandboxHostConfig = z.infer<typeof SandboxHostConfigSchema>;

/** Settings of the built-in `exec` upstream (`transport: builtin`, `server: exec`). */
export const ExecSettingsSchema = z
  .object({
    /** Time a command gets when the call does not ask for less (capped by `sandbox.limits.wallTimeSec`). */
    defaultTimeoutSec: z.number().int().min(1).max(3600).default(30),
    /** Bytes of stdout and of stderr returned (each); the digests cover all of it. */
    maxOutputBytes: z.number().int().min(0).max(16 * 1024 * 1024).default(64 * 1024),
    maxStdinBytes: z.number().int().min(0).max(16 * 1024 * 1024).default(1024 * 1024),
    /**
     * When set, the only commands (`command` as given, a name or an absolute path) that run.
     * Policies can say more (`context.args.command`); this is the floor no policy lifts.
     */
    commands: z.array(z.string().min(1).max(4096)).max(256).optional(),
  })
  .strict();
export type ExecSettings = z.infer<typeof ExecSettingsSchema>;
