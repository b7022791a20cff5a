import type { Command } from 'commander';
import type { CliGlobals } from '../admin-client.js';
import { printJson, printTable } from '../output.js';

interface UpstreamRow {
  name: string;
  kind: 'mcp' | 'http';
  transport: string;
  sandboxed: boolean | null;
  sandbox?: { limits: { memoryMb: number; pids: number; cpus: number; wallTimeSec: number }; egress: string[]; mounts: { path: string; writable: boolean }[]; enforcedBy?: string };
  state?: string;
  restarts?: number;
  lastError?: string;
}

export function upstreamCommands(program: Command, g: CliGlobals): void {
  const upstreams = program.command('upstreams').description('the upstreams Warden reaches: MCP servers (and whether each runs in a sandbox) and HTTP APIs');

  upstreams
    .command('list')
    .description('every upstream with its isolation: sandboxed, limits, egress, mounts; UNSANDBOXED when its config turns the sandbox off')
    .action(async () => {
      const res = await g.client().call<{ upstreams: UpstreamRow[] }>('GET', '/v1/upstreams');
      if (g.json()) return printJson(res.upstreams);
      printTable(
        res.upstreams.map((u) => {
          const l = u.sandbox?.limits;
          return {
            name: u.name,
            transport: u.transport,
            sandbox: u.sandboxed === null ? 'n/a' : u.sandboxed ? 'yes' : 'NO (sandbox: false)',
            limits: l ? `${l.memoryMb} MiB, ${l.pids} pids, ${l.cpus} cpu, ${l.wallTimeSec} s` : '',
            egress: u.sandbox?.egress ?? [],
            mounts: (u.sandbox?.mounts ?? []).map((m) => `${m.path}${m.writable ? ' (rw)' : ''}`),
            state: u.state ?? '',
            'last error': u.lastError ?? '',
          };
        }),
        ['name', 'transport', 'sandbox', 'limits', 'egress', 'mounts', 'state', 'last error'],
      );
    });
}
