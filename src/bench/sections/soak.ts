import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WardenAgent } from '../../sdk/agent.js';
import { createDpopProof, generateAgentKey } from '../../sdk/keys.js';
import { HttpClient, errorCodeOf } from '../http-client.js';
import type { BenchContext, Row, Section } from '../section.js';
import { benchUpstreamConfig, startUpstream } from './gateway.js';

const BIN = fileURLToPath(new URL('../../../../bin/warden.js', import.meta.url));

/** Resident memory of a process in MB, from /proc (Linux); null elsewhere. */
function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** `warden serve` as its own process, the way it runs in production; resolves once it listens. */
async function serve(dataDir: string): Promise<{ child: ChildProcess; url: string; adminKey: string; output: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, WARDEN_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString('utf8')).slice(-64 * 1024)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString('utf8')).slice(-64 * 1024)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /Warden listening on (http:\/\/\S+)/.exec(out);
      if (m && /wdn_\S+/.test(out)) {
        clearInterval(timer);
        resolve(m[1]!);
      }
    }, 20);
    child.once('exit', (code, signal) => {
      clearInterval(timer);
      reject(new Error(`warden serve exited (${code ?? signal}): ${out.slice(-2000)}`));
    });
  });
  return { child, url, adminKey: /(wdn_\S+)/.exec(out)![1]!, output: () => out };
}


/**
 * Minutes of concurrent calls against `warden serve` in its own process: MCP tool calls, proxied
 * GETs and refused calls mixed, new proofs signed as a client would, the task token refreshed
 * as it ages. Reported: the rate at the start and at the end (does it hold?), Warden's memory
 * at the start and the end, every error by code — and, if Warden dies, how (a V8 fatal error
 * is what this looks for: see the notes).
 */
async function run(ctx: BenchContext): Promise<Row[]> {
  const durationMs = ctx.durations.soakMs;
  const upstream = await startUpstream();
  const dir = await mkdtemp(join(tmpdir(), 'warden-soak-'));
  await writeFile(join(dir, 'warden.yaml'), benchUpstreamConfig(upstream.port));
  const w = await serve(dir);
  let died: string | null = null;
  w.child.once('exit', (code, signal) => {
    const fatal = /Fatal error[^\n]*\n[^\n]*/.exec(w.output())?.[0]?.replace(/\s+/g, ' ');
    died = `exit ${code ?? signal}${fatal ? `: ${fatal}` : ''}`;
  });
  const http = new HttpClient(new URL(w.url), ctx.concurrency);
  try {
    const key = await generateAgentKey('ES256');
    const res = await fetch(`${w.url}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${w.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'soak', owner: 'bench', purpose: 'soak', riskCategory: 'minimal', capabilities: ['bench.*', 'origin.*'], publicKeys: [key.publicJwk] }),
    });
    const agentId = ((await res.json()) as { agent: { id: string } }).agent.id;
    const session = await new WardenAgent({ wardenUrl: w.url, agentId, key }).startTask({ purpose: 'soak', scope: ['bench.echo', 'origin.get'], lifetimeSec: 3600 });
    const client = new Client({ name: 'soak', version: '1.0.0' });
    const transport = session.mcpTransport();
    await client.connect(transport);
    const sessionId = transport.sessionId!;
    const mcpUrl = `${w.url}/mcp`;
    const proxyUrl = `${w.url}/proxy/origin/data`;

    const windows: number[] = [];
    const errors = new Map<string, number>();
    let calls = 0;
    let id = 1;
    const rss0 = rssMb(w.child.pid!);
    const rssSamples: number[] = [];
    const sampler = setInterval(() => {
      const r = rssMb(w.child.pid!);
      if (r !== null) rssSamples.push(r);
    }, Math.max(1000, durationMs / 10));
    const t0 = performance.now();
    ctx.progress.start(`soak: ${Math.round(durationMs / 1000)} s of mixed calls, ${ctx.concurrency} in flight`, durationMs);
    const worker = async (n: number): Promise<void> => {
      for (let i = 0; died === null && performance.now() - t0 < durationMs; i++) {
        const token = await session.accessToken();
        const kind = (i + n) % 10;
        let status: number;
        let body: string;
        if (kind < 6) {
          const denied = kind === 5;
          const call = JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: denied ? 'bench.nope' : 'bench.echo', arguments: { message: `m${i}` } } });
          const dpop = await createDpopProof(key, { method: 'POST', url: mcpUrl, accessToken: token });
          ({ status, body } = await http.send(
            'POST',
            '/mcp',
            { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', authorization: `DPoP ${token}`, dpop, 'mcp-session-id': sessionId },
            call,
          ));
          const ok = status === 200 && (denied ? body.includes('SCOPE_DENIED') : body.includes(`"m${i}"`));
          if (!ok) errors.set(`mcp ${status} ${errorCodeOf(body)}`, (errors.get(`mcp ${status} ${errorCodeOf(body)}`) ?? 0) + 1);
        } else {
          const dpop = await createDpopProof(key, { method: 'GET', url: proxyUrl, accessToken: token });
          ({ status, body } = await http.send('GET', '/proxy/origin/data', { authorization: `DPoP ${token}`, dpop }));
          if (status !== 200) errors.set(`http ${status} ${errorCodeOf(body)}`, (errors.get(`http ${status} ${errorCodeOf(body)}`) ?? 0) + 1);
        }
        calls++;
        const second = Math.floor((performance.now() - t0) / 1000);
        windows[second] = (windows[second] ?? 0) + 1;
        ctx.progress.update(calls, performance.now() - t0);
      }
    };
    // A connection error is counted and the worker goes on: the soak is about Warden staying
    // up and correct, and one reset socket must not end a worker's share of the load.
    const resilient = async (n: number): Promise<void> => {
      while (died === null && performance.now() - t0 < durationMs) {
        try {
          await worker(n);
        } catch (err) {
          const k = `client ${err instanceof Error ? err.message.slice(0, 60) : 'error'} at ${Math.round((performance.now() - t0) / 1000)} s`;
          errors.set(k, (errors.get(k) ?? 0) + 1);
          if (process.env.WARDEN_SOAK_DEBUG) process.stderr.write(`${k}\n${w.output().slice(-1500)}\n`);
        }
      }
    };
    await Promise.all(Array.from({ length: ctx.concurrency }, (_, n) => resilient(n)));
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const rss1 = rssMb(w.child.pid!);
    ctx.progress.finish(`${calls.toLocaleString('en-US')} calls${died ? `, WARDEN DIED (${died})` : ''}`);
    await client.close().catch(() => undefined);
    if (died) throw new Error(`Warden died during the soak after ${seconds.toFixed(0)} s and ${calls} calls: ${died}`);

    const fifth = Math.max(1, Math.floor(windows.length / 5));
    const rate = (ws: (number | undefined)[]): number => ws.reduce<number>((a, b) => a + (b ?? 0), 0) / ws.length;
    const first = rate(windows.slice(0, fifth));
    const last = rate(windows.slice(-fifth - 1, -1));
    const errorText = errors.size === 0 ? 'no errors' : [...errors].map(([k, v]) => `${k}×${v}`).join(', ');
    return [
      { id: 'soak.first', label: `first fifth of the soak (${fifth} s)`, kind: 'baseline', unit: 'calls/s', rate: first, ops: 0, seconds: fifth },
      {
        id: 'soak.last',
        label: `last fifth of the soak (${fifth} s)`,
        kind: 'measured',
        unit: 'calls/s',
        rate: last,
        ops: 0,
        seconds: fifth,
        vs: ['soak.first'],
        note: `${calls.toLocaleString('en-US')} calls in ${seconds.toFixed(0)} s, Warden alive; RSS MB ${[rss0, ...rssSamples, rss1].filter((r) => r !== null).map((r) => r!.toFixed(0)).join(' → ')}; ${errorText}`,
      },
    ];
  } finally {
    http.close();
    if (w.child.exitCode === null) {
      const exited = new Promise((r) => w.child.once('exit', r));
      w.child.kill('SIGTERM');
      await exited;
    }
    upstream.child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

export const soak: Section = {
  name: 'soak',
  title: 'Soak: minutes of concurrent mixed calls against warden serve in its own process',
  notes: [
    'MCP tools/call (one in six refused by scope) and proxied GETs, each with a fresh DPoP proof; the section fails, naming how, if Warden dies.',
    'Why: a prototype with jose v6 and cedar-wasm in one Node 20 process died 6 times in 9 runs under such load (V8 "unreachable code" in the deoptimizer). A ratio near 1.0 and a flat RSS mean the rate and memory held.',
  ],
  run,
};
