import type { FastifyInstance } from 'fastify';
import { SandboxHost } from '../../sandbox/sandbox-host.js';
import { READERS, requirePerson } from '../auth.js';
import type { ApiContext } from '../context.js';

/**
 * `/v1/upstreams`: every upstream Warden reaches, how, and how it is isolated — an inventory a
 * security review starts from. An MCP server with `sandbox: false` shows `sandboxed: false`;
 * HTTP APIs are reached by Warden itself, so sandboxing does not apply to them (`null`).
 */
export function upstreamRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/upstreams', { preHandler: requirePerson(ctx, READERS) }, async () => {
    const status = new Map((ctx.upstreams?.statuses() ?? []).map((s) => [s.name, s]));
    const mcp = ctx.config.upstreams.mcp.map((u) => {
      const s = status.get(u.name);
      const sandbox = u.transport === 'http' || (u.transport === 'stdio' && u.sandbox === false) ? null : u.sandbox;
      const wallTimeSec = sandbox ? (u.transport === 'builtin' ? SandboxHost.execWallTimeSec(sandbox) : SandboxHost.serverWallTimeSec(sandbox)) : undefined;
      return {
        name: u.name,
        kind: 'mcp',
        transport: u.transport,
        ...(u.transport === 'stdio' ? { command: u.command } : u.transport === 'builtin' ? { server: u.server } : { url: u.url }),
        sandboxed: u.transport === 'http' ? null : sandbox !== null,
        ...(sandbox
          ? {
              sandbox: {
                limits: { ...sandbox.limits, wallTimeSec },
                egress: sandbox.egress,
                mounts: sandbox.mounts.map((m) => ({ path: m.path, at: m.at ?? m.path, writable: m.writable })),
                ...(s?.sandbox ? { uid: s.sandbox.uid, gid: s.sandbox.gid, enforcedBy: s.sandbox.enforcedBy } : {}),
              },
            }
          : {}),
        state: s?.state ?? 'idle',
        ...(s?.pid !== undefined ? { pid: s.pid } : {}),
        restarts: s?.restarts ?? 0,
        ...(s?.lastError ? { lastError: s.lastError } : {}),
        ...(s?.startedAt !== undefined ? { startedAt: s.startedAt } : {}),
      };
    });
    const http = ctx.config.upstreams.http.map((u) => ({ name: u.name, kind: 'http', transport: 'http', url: u.baseUrl, sandboxed: null, methods: u.methods }));
    return { upstreams: [...mcp, ...http] };
  });
}
