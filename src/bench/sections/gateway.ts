import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Agent as UndiciAgent, request as undiciRequest } from 'undici';
import { WardenAgent } from '../../sdk/agent.js';
import { createDpopProof, generateAgentKey } from '../../sdk/keys.js';
import { registerAgent, startBenchWarden } from '../fixture.js';
import { HttpClient, expectStatus } from '../http-client.js';
import { measureInterleaved, turn, type RowSpec } from '../measure.js';
import type { BenchContext, Row, Section } from '../section.js';
import { startGatewayFloor } from './gateway-floor.js';

const UPSTREAM = fileURLToPath(new URL('../upstream-server.js', import.meta.url));
/** A JSON-RPC request id is unique among a session's requests in flight (MCP SDKs count up). */
let nextId = 1;
const call = (tool: string): string => JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: tool, arguments: { message: 'hello' } } });
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

/** The upstream in its own process; resolves once it prints its port. */
export async function startUpstream(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(Number(l)));
    child.once('exit', (code) => reject(new Error(`bench upstream exited with ${code}`)));
  });
  return { child, port };
}

/**
 * A bare reverse proxy on undici, the yardstick for what a proxy costs at all: every request
 * is forwarded as it is, with no authentication, policy, audit or scanning.
 */
async function startBareProxy(origin: string): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const dispatcher = new UndiciAgent({ connections: 64, keepAliveTimeout: 60_000 });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = { ...req.headers };
      delete headers.host;
      delete headers.connection;
      undiciRequest(`${origin}${req.url}`, { method: req.method as 'GET', headers, body: chunks.length ? Buffer.concat(chunks) : null, dispatcher })
        .then(async (up) => {
          const body = Buffer.from(await up.body.arrayBuffer());
          const out: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = v;
          res.writeHead(up.statusCode, out).end(body);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await dispatcher.close();
    },
  };
}

/** Warden's config for the bench upstream: its MCP server as `bench`, its origin as `origin`. */
export const benchUpstreamConfig = (port: number): string => `
limits: { agent: { ratePerSec: 100000, burst: 100000 }, task: { calls: 1000000000000 } }
upstreams:
  mcp:
    - name: bench
      transport: http
      url: http://127.0.0.1:${port}/mcp
      defaults: { risk: low }
  http:
    - name: origin
      baseUrl: http://127.0.0.1:${port}
      pathPrefixes: [/data]
      allowPrivateNetwork: [127.0.0.1/32]
      risk: low
`;

async function run(ctx: BenchContext): Promise<Row[]> {
  const upstream = await startUpstream();
  const bare = await startBareProxy(`http://127.0.0.1:${upstream.port}`);
  const w = await startBenchWarden(ctx.concurrency, benchUpstreamConfig(upstream.port));
  const direct = new HttpClient(new URL(`http://127.0.0.1:${upstream.port}`), ctx.concurrency);
  const viaBare = new HttpClient(new URL(`http://127.0.0.1:${bare.port}`), ctx.concurrency);
  try {
    const { warden, http } = w;
    const key = await generateAgentKey('ES256');
    const agentId = await registerAgent(w, key, ['bench.echo', 'origin.get']);
    const session = await new WardenAgent({ wardenUrl: warden.url, agentId, key }).startTask({ purpose: 'bench', scope: ['bench.echo', 'origin.get'] });
    // One session opened through the SDK: the raw requests below are what its client sends.
    const client = new Client({ name: 'bench', version: '1.0.0' });
    const transport = session.mcpTransport();
    await client.connect(transport);
    const check = await client.callTool({ name: 'bench.echo', arguments: { message: 'hello' } });
    if ((check.content as { text?: string }[])[0]?.text !== 'hello') throw new Error('bench.echo through Warden did not echo');
    const sessionId = transport.sessionId;
    if (!sessionId) throw new Error('no MCP session id from Warden');
    const token = await session.accessToken();
    const authorization = `DPoP ${token}`;
    const mcpUrl = `${warden.context.urls.base}/mcp`;
    const proxyUrl = `${warden.context.urls.base}/proxy/origin/data`;
    const proofs = (method: string, url: string) => async (n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(await createDpopProof(key, { method, url, accessToken: token }));
      return out;
    };
    const none = async (n: number) => new Array<null>(n).fill(null);
    const load = <T>(spec: RowSpec, prepare: (n: number) => Promise<T[]>, run: (item: T) => Promise<void>, concurrency = ctx.concurrency, pauseMs = 0) =>
      turn(spec, { prepare, run, concurrency, durationMs: concurrency === 1 ? ctx.durations.httpMs / 2 : ctx.durations.httpMs, ...(pauseMs > 0 ? { pauseMs } : {}) });
    const mcpOk = (what: string) => (a: { status: number; body: string }) => {
      expectStatus(a, 200, what);
      if (!a.body.includes('"hello"')) throw new Error(`${what}: no echo in the answer`);
    };
    const mcpViaWarden = async (dpop: string) =>
      mcpOk('Warden tools/call')(await http.send('POST', '/mcp', { ...MCP_HEADERS, authorization, dpop, 'mcp-session-id': sessionId }, call('bench.echo')));
    const mcpStraight = async () => mcpOk('direct tools/call')(await direct.send('POST', '/mcp', MCP_HEADERS, call('echo')));
    const getViaWarden = async (dpop: string) => expectStatus(await http.send('GET', '/proxy/origin/data', { authorization, dpop }), 200, 'GET through Warden');
    const getStraight = async () => expectStatus(await direct.send('GET', '/data', {}), 200, 'GET origin');
    const getViaBare = async () => expectStatus(await viaBare.send('GET', '/data', {}), 200, 'GET bare proxy');

    // Each comparison is measured turn about (a round of each in order), so that the machine's
    // changing speed weighs on the baselines and on Warden alike.
    const [mcpDirect, mcpBare, mcpWarden] = await measureInterleaved(ctx, `tools/call, ${ctx.concurrency} in flight: direct, bare proxy, Warden`, [
      load({ id: 'mcp.direct', label: `tools/call straight to the upstream, ${ctx.concurrency} in flight`, kind: 'baseline', unit: 'calls/s' }, none, mcpStraight),
      load(
        { id: 'mcp.bare-proxy', label: 'tools/call through a bare undici reverse proxy', kind: 'baseline', unit: 'calls/s' },
        none,
        async () => mcpOk('bare proxy tools/call')(await viaBare.send('POST', '/mcp', MCP_HEADERS, call('echo'))),
      ),
      load(
        { id: 'mcp.warden', label: 'tools/call through Warden (DPoP, policy, audit, scanning)', kind: 'measured', unit: 'calls/s', vs: ['mcp.direct', 'mcp.bare-proxy'] },
        proofs('POST', mcpUrl),
        mcpViaWarden,
      ),
    ]);
    const [httpDirect, httpBare, httpWarden] = await measureInterleaved(ctx, `GET, ${ctx.concurrency} in flight: direct, bare proxy, Warden`, [
      load({ id: 'http.direct', label: `GET straight to the origin, ${ctx.concurrency} in flight`, kind: 'baseline', unit: 'req/s' }, none, getStraight),
      load(
        { id: 'http.bare-proxy', label: 'GET through a bare undici reverse proxy', kind: 'baseline', unit: 'req/s' },
        none,
        getViaBare,
      ),
      load(
        { id: 'http.warden', label: 'GET through Warden /proxy (DPoP, policy, audit, scanning)', kind: 'measured', unit: 'req/s', vs: ['http.direct', 'http.bare-proxy'] },
        proofs('GET', proxyUrl),
        getViaWarden,
      ),
    ]);
    // Latency without queueing: one call in flight, Warden against direct.
    const [mcpDirect1, mcpWarden1] = await measureInterleaved(ctx, 'tools/call, 1 in flight: direct, Warden', [
      load({ id: 'mcp.direct.1', label: 'tools/call straight to the upstream, 1 in flight', kind: 'baseline', unit: 'calls/s' }, none, mcpStraight, 1),
      load({ id: 'mcp.warden.1', label: 'tools/call through Warden, 1 in flight', kind: 'measured', unit: 'calls/s', vs: ['mcp.direct.1'] }, proofs('POST', mcpUrl), mcpViaWarden, 1),
    ]);
    const [httpDirect1, httpBare1, httpWarden1] = await measureInterleaved(ctx, 'GET, 1 in flight: direct, bare proxy, Warden', [
      load({ id: 'http.direct.1', label: 'GET straight to the origin, 1 in flight', kind: 'baseline', unit: 'req/s' }, none, getStraight, 1),
      load({ id: 'http.bare-proxy.1', label: 'GET through the bare undici proxy, 1 in flight', kind: 'baseline', unit: 'req/s' }, none, getViaBare, 1),
      load({ id: 'http.warden.1', label: 'GET through Warden /proxy, 1 in flight', kind: 'measured', unit: 'req/s', vs: ['http.direct.1'] }, proofs('GET', proxyUrl), getViaWarden, 1),
    ]);
    // Why one call alone adds what it adds: the same origin and Warden's fixed work, each paced
    // as a call through Warden paces them (busy for the time Warden adds, then the operation).
    const pauseMs = Math.max(0, httpWarden1.row.latencyMs!.p50 - httpDirect1.row.latencyMs!.p50);
    const floor = await startGatewayFloor();
    const pacedLoads = [
      load({ id: 'http.direct.1.paced', label: `GET straight to the origin, after ${pauseMs.toFixed(2)} ms busy each`, kind: 'baseline', unit: 'req/s' }, none, getStraight, 1, pauseMs),
      load({ id: 'floor.1.paced', label: 'P-256 DPoP check + 2 audit entries, in process, same pace', kind: 'baseline', unit: 'op/s' }, (n) => floor.prepare(n), (p) => floor.run(p), 1, pauseMs),
    ] as const;
    const paced = await measureInterleaved(ctx, `paced like a call through Warden (${pauseMs.toFixed(2)} ms busy between operations)`, pacedLoads).finally(() => floor.close());
    const [httpDirectPaced, floorPaced] = paced;
    await client.close();
    const addedAlone = (m: Row, d: Row): string =>
      `adds p50 ${(m.latencyMs!.p50 - d.latencyMs!.p50).toFixed(2)} ms, p99 ${(m.latencyMs!.p99 - d.latencyMs!.p99).toFixed(2)} ms per call with nothing else in flight`;

    const added = (m: Row, d: Row): string => {
      const a = m.latencyMs!;
      const b = d.latencyMs!;
      return `adds p50 ${(a.p50 - b.p50).toFixed(2)} ms, p99 ${(a.p99 - b.p99).toFixed(2)} ms over direct; ${(m.rate / d.rate).toFixed(2)}× direct, ${(m.rate / (d === mcpDirect.row ? mcpBare.row.rate : httpBare.row.rate)).toFixed(2)}× the bare proxy`;
    };
    return [
      mcpDirect.row,
      mcpBare.row,
      { ...mcpWarden.row, note: added(mcpWarden.row, mcpDirect.row) },
      httpDirect.row,
      httpBare.row,
      { ...httpWarden.row, note: added(httpWarden.row, httpDirect.row) },
      mcpDirect1.row,
      { ...mcpWarden1.row, note: addedAlone(mcpWarden1.row, mcpDirect1.row) },
      httpDirect1.row,
      { ...httpBare1.row, note: addedAlone(httpBare1.row, httpDirect1.row) },
      { ...httpWarden1.row, note: addedAlone(httpWarden1.row, httpDirect1.row) },
      { ...httpDirectPaced.row, note: `the origin alone answers ${(httpDirectPaced.row.latencyMs!.p50 - httpDirect1.row.latencyMs!.p50).toFixed(2)} ms slower (p50) at this pace than back to back` },
      { ...floorPaced.row, note: `p50 ${floorPaced.row.latencyMs!.p50.toFixed(2)} ms, at this pace, for the two steps no gateway of this design skips (a P-256 proof check, two durable entries), as Warden does them` },
    ];
  } finally {
    direct.close();
    viaBare.close();
    await w.close();
    await bare.close();
    upstream.child.kill('SIGTERM');
  }
}

export const gateway: Section = {
  name: 'gateway',
  title: 'Calls through the gateway against the same upstream, direct and through a bare proxy',
  notes: [
    'The upstream (an MCP server over Streamable HTTP and a JSON origin) runs in its own process; Warden, the bare undici proxy and the load generator share this one.',
    "Through Warden every call has a fresh DPoP proof (signed before each round, untimed), runs limits, the argument scan, Cedar, the durable intent and outcome entries (SQLite), and the result scan; the bare proxy does none of it.",
    'The paced rows wait, busy, as long as Warden adds to one call before each operation: an origin or a CPU left idle that long answers slower on this VM than in a back-to-back loop (the direct baselines). They show how much of the added time is the machine waking up, and how much of Warden\'s work (its P-256 check, its two durable entries) no pipeline could skip.',
    'Targets on a 2-core machine: added p50 ≤ 0.5 ms and p99 ≤ 2 ms, and at least 0.5× the bare proxy\'s throughput. The notes say where this run stands; nothing here asserts.',
  ],
  run,
};
