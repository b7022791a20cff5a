import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { AgentKeyPair } from '../sdk/keys.js';
import { Warden } from '../warden.js';
import { HttpClient } from './http-client.js';

/** A real Warden on 127.0.0.1 with its own SQLite file in a temp dir, and a client for it. */
export interface BenchWarden {
  readonly warden: Warden;
  readonly adminKey: string;
  readonly http: HttpClient;
  /** Idempotent: closes the client and Warden, then deletes the temp dir. */
  close(): Promise<void>;
}

/** Wardens not yet closed, so a signal can still clean up after an interrupted section. */
const open = new Set<BenchWarden>();

export async function startBenchWarden(sockets: number, config?: string): Promise<BenchWarden> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warden-bench-'));
  let warden: Warden;
  try {
    if (config) await writeFile(join(dataDir, 'warden.yaml'), config);
    warden = await Warden.start({ dataDir, port: 0, host: '127.0.0.1', logger: pino({ level: 'silent' }) });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const http = new HttpClient(new URL(warden.url), sockets);
  let closing: Promise<void> | null = null;
  const bench: BenchWarden = {
    warden,
    adminKey: warden.adminKey ?? '',
    http,
    close: () =>
      (closing ??= (async () => {
        open.delete(bench);
        http.close();
        try {
          await warden.close();
        } finally {
          await rm(dataDir, { recursive: true, force: true });
        }
      })()),
  };
  open.add(bench);
  if (!warden.adminKey) {
    await bench.close();
    throw new Error('a fresh data directory should have produced an admin key');
  }
  return bench;
}

/** Closes every Warden still open (on SIGINT/SIGTERM). */
export async function closeAllBenchWardens(): Promise<void> {
  await Promise.allSettled([...open].map((w) => w.close()));
}

/** Registers an agent through the admin API, as an operator would; returns its id. */
export async function registerAgent(w: BenchWarden, key: AgentKeyPair, capabilities: readonly string[]): Promise<string> {
  const res = await fetch(`${w.warden.url}/v1/agents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${w.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'bench-agent',
      owner: 'bench',
      purpose: 'load generator for npm run bench',
      riskCategory: 'minimal',
      capabilities,
      publicKeys: [key.publicJwk],
    }),
  });
  const body = (await res.json()) as { agent?: { id?: unknown } };
  if (res.status !== 201 || typeof body.agent?.id !== 'string') throw new Error(`agent registration failed: HTTP ${res.status}`);
  return body.agent.id;
}
