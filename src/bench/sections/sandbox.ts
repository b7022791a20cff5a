import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { UpstreamConnection } from '../../mcp-gateway/upstreams/upstream-connection.js';
import { StdioUpstreamSchema } from '../../mcp-gateway/upstreams/upstream-config.js';
import { InFlightCalls } from '../../sandbox/in-flight-calls.js';
import { SandboxEgress } from '../../sandbox/sandbox-egress.js';
import { SandboxHost } from '../../sandbox/sandbox-host.js';
import { UpstreamSandboxes } from '../../sandbox/upstream-sandboxes.js';
import { measureBatched } from '../measure.js';
import type { BenchContext, Row, Section } from '../section.js';
import { Samples } from '../stats.js';

/** `@modelcontextprotocol/server-everything`, the reference server Warden ships with, over stdio. */
function everything(sandboxed: boolean) {
  const entry = join(dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');
  return StdioUpstreamSchema.parse({ transport: 'stdio', name: sandboxed ? 'boxed' : 'plain', command: process.execPath, args: [entry, 'stdio'], ...(sandboxed ? {} : { sandbox: false }) });
}

/**
 * Start-up, sandboxed and not, taken in turns so both see the same machine: spawn, MCP
 * `initialize` and the first `tools/list` of a fresh connection. Closing is not timed.
 */
async function timeStarts(ctx: BenchContext, sandboxes: UpstreamSandboxes): Promise<{ plain: Row; boxed: Row }> {
  const samples = { plain: new Samples(), boxed: new Samples() };
  const spent = { plain: 0, boxed: 0 };
  const opts = { resolveSecret: async () => '', sandbox: sandboxes };
  const once = async (kind: 'plain' | 'boxed'): Promise<void> => {
    const c = new UpstreamConnection(everything(kind === 'boxed'), opts);
    const t0 = performance.now();
    const { tools } = await c.listTools();
    const ms = performance.now() - t0;
    await c.close();
    if (tools.length === 0) throw new Error('server-everything listed no tools');
    samples[kind].push(ms);
    spent[kind] += ms;
  };
  // One of each untimed: the page cache and the sandbox host's first check.
  await once('plain');
  await once('boxed');
  samples.plain = new Samples();
  samples.boxed = new Samples();
  spent.plain = spent.boxed = 0;
  const budget = ctx.durations.httpMs;
  ctx.progress.start('start-up, unsandboxed and sandboxed in turns', budget);
  const t0 = performance.now();
  while (performance.now() - t0 < budget || samples.boxed.count < 5) {
    await once('plain');
    await once('boxed');
    ctx.progress.update(samples.boxed.count, performance.now() - t0);
  }
  const row = (kind: 'plain' | 'boxed'): Row => ({
    id: kind === 'plain' ? 'start.unsandboxed' : 'start.sandboxed',
    label: kind === 'plain' ? 'start-up of server-everything, unsandboxed (spawn, initialize, tools/list)' : 'start-up of server-everything in its sandbox',
    kind: kind === 'plain' ? 'baseline' : 'measured',
    unit: 'starts/s',
    rate: samples[kind].count / (spent[kind] / 1000),
    ops: samples[kind].count,
    seconds: spent[kind] / 1000,
    latencyMs: samples[kind].summarize(),
    ...(kind === 'boxed' ? { vs: ['start.unsandboxed'] } : {}),
  });
  const plain = row('plain');
  const boxed = row('boxed');
  ctx.progress.finish(`p50 ${plain.latencyMs!.p50.toFixed(1)} ms unsandboxed, ${boxed.latencyMs!.p50.toFixed(1)} ms sandboxed`);
  return { plain, boxed };
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const stateDir = await mkdtemp(join(tmpdir(), 'warden-bench-sandbox-'));
  const calls = new InFlightCalls();
  const host = new SandboxHost({ stateDir, egress: new SandboxEgress({ upstreams: [], calls }) });
  const sandboxes = new UpstreamSandboxes(host, { stateDir, calls });
  const opts = { resolveSecret: async () => '', sandbox: sandboxes };
  const plain = new UpstreamConnection(everything(false), opts);
  const boxed = new UpstreamConnection(everything(true), opts);
  try {
    const starts = await timeStarts(ctx, sandboxes);
    await Promise.all([plain.listTools(), boxed.listTools()]);
    const echo = (c: UpstreamConnection) => async () => {
      const r = await c.callTool('echo', { message: 'hello' });
      if ((r.content[0] as { text?: string } | undefined)?.text !== 'Echo: hello') throw new Error('echo did not echo');
    };
    const none = async (n: number) => new Array<null>(n).fill(null);
    const load = (id: string, label: string, kind: Row['kind'], c: UpstreamConnection, concurrency: number, vs?: string[]) =>
      measureBatched(ctx, { id, label, kind, unit: 'calls/s', ...(vs ? { vs } : {}) }, { prepare: none, run: echo(c), concurrency, durationMs: ctx.durations.httpMs / 2 });
    const plain1 = await load('call.unsandboxed.1', 'tools/call to server-everything, unsandboxed, 1 in flight', 'baseline', plain, 1);
    const boxed1 = await load('call.sandboxed.1', 'tools/call to server-everything in its sandbox, 1 in flight', 'measured', boxed, 1, ['call.unsandboxed.1']);
    const plainN = await load('call.unsandboxed', `tools/call, unsandboxed, ${ctx.concurrency} in flight`, 'baseline', plain, ctx.concurrency);
    const boxedN = await load('call.sandboxed', `tools/call in its sandbox, ${ctx.concurrency} in flight`, 'measured', boxed, ctx.concurrency, ['call.unsandboxed']);
    const adds = (m: Row, b: Row): string => `adds p50 ${(m.latencyMs!.p50 - b.latencyMs!.p50).toFixed(2)} ms, p99 ${(m.latencyMs!.p99 - b.latencyMs!.p99).toFixed(2)} ms`;
    return [
      starts.plain,
      { ...starts.boxed, note: adds(starts.boxed, starts.plain) },
      plain1.row,
      { ...boxed1.row, note: adds(boxed1.row, plain1.row) },
      plainN.row,
      { ...boxedN.row, note: adds(boxedN.row, plainN.row) },
    ];
  } finally {
    await Promise.all([plain.close(), boxed.close()]);
    await rm(stateDir, { recursive: true, force: true });
  }
}

export const sandbox: Section = {
  name: 'sandbox',
  title: 'A stdio MCP server in its sandbox against the same server unsandboxed',
  notes: [
    'The server is @modelcontextprotocol/server-everything over stdio; both connections are driven in this process, without the gateway in front (its cost is the gateway section).',
    'Sandboxed: bubblewrap namespaces, the egress relay started first inside, a cgroup with the default limits (512 MiB, 256 pids, 1 CPU), dropped to the sandbox user. Start-up is spawn + initialize + the first tools/list, taken in turns with the unsandboxed start so both see the same machine; closing is not timed.',
    'A call\'s MCP framing passes through the sandbox untouched (the command owns stdin and stdout), so the call rows show what the namespaces and the cgroup cost once running. The sandboxed server is held to its CPU quota (1 CPU) and the unsandboxed one is not, which can show with 8 in flight on a busy machine.',
  ],
  run,
};
