import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { generateAgentKey, createClientAssertion, createDpopProof, type AgentKeyPair } from '../../src/sdk/keys.js';
import type { Clock } from '../../src/util/clock.js';
import { Warden } from '../../src/warden.js';
import { createTestDatabase } from './pg.js';

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: readonly Backend[] = process.env.WARDEN_TEST_SKIP_PG === '1' ? ['sqlite'] : ['sqlite', 'postgres'];

/** Real time moved forward by hand: tokens and proofs stay realistic, expiry can be reached. */
export class OffsetClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface TestWarden {
  readonly warden: Warden;
  readonly url: string;
  readonly adminKey: string;
  readonly dataDir: string;
  readonly clock: OffsetClock;
  /** Calls the admin API as the bootstrap admin (or with `key`). */
  admin(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/**
 * Starts the real server on 127.0.0.1:0 with a fresh data directory and a fresh database of
 * the chosen backend (a SQLite file, or its own database on the test PostgreSQL).
 */
export async function startWarden(
  backend: Backend,
  opts: { config?: string; databaseUrl?: string; publicUrl?: string; clock?: OffsetClock } = {},
): Promise<TestWarden & { databaseUrl: string | undefined }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warden-test-'));
  if (opts.config) await writeFile(join(dataDir, 'warden.yaml'), opts.config);
  let databaseUrl = opts.databaseUrl;
  let drop: (() => Promise<void>) | undefined;
  if (backend === 'postgres' && !databaseUrl) {
    const db = await createTestDatabase();
    databaseUrl = db.url;
    drop = db.drop;
  }
  const clock = opts.clock ?? new OffsetClock();
  const warden = await Warden.start({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    clock,
    logger: pino({ level: process.env.WARDEN_TEST_LOG ?? 'silent' }),
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
  });
  const adminKey = warden.adminKey ?? '';
  const listenUrl = warden.listenUrl;
  return {
    warden,
    url: listenUrl,
    adminKey,
    dataDir,
    clock,
    databaseUrl,
    async admin(method, path, body, key) {
      const res = await fetch(`${listenUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${key ?? adminKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await warden.close();
      if (drop) await drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestAgent {
  readonly id: string;
  readonly key: AgentKeyPair;
}

/** Registers an agent with a generated key (P-256 unless asked otherwise). */
export async function registerAgent(
  tw: TestWarden,
  overrides: Record<string, unknown> = {},
  alg: 'ES256' | 'EdDSA' = 'ES256',
): Promise<TestAgent> {
  const key = await generateAgentKey(alg);
  const res = await tw.admin('POST', '/v1/agents', {
    name: `agent-${Math.random().toString(36).slice(2, 10)}`,
    owner: 'alice@example.com',
    purpose: 'tests',
    riskCategory: 'limited',
    capabilities: ['github.*', 'jira.read_issue'],
    maxTaskLifetimeSec: 3600,
    publicKeys: [key.publicJwk],
    ...overrides,
  });
  if (res.status !== 201) throw new Error(`registering the agent failed: ${JSON.stringify(res.body)}`);
  return { id: res.body.agent.id, key };
}

/** A token request exactly as an agent makes one; each part can be replaced to attack it. */
export async function tokenRequest(
  tw: TestWarden,
  agent: TestAgent,
  params: Record<string, string>,
  opts: { assertion?: string; dpop?: string | null; dpopKey?: AgentKeyPair; assertionKey?: AgentKeyPair } = {},
): Promise<{ status: number; body: any }> {
  const base = tw.warden.context.urls;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion:
      opts.assertion ??
      (await createClientAssertion(opts.assertionKey ?? agent.key, { agentId: agent.id, audience: base.tokenEndpoint, nowSec: nowSec(tw) })),
    ...params,
  });
  const dpop =
    opts.dpop === null
      ? undefined
      : (opts.dpop ?? (await createDpopProof(opts.dpopKey ?? agent.key, { method: 'POST', url: base.tokenEndpoint, nowSec: nowSec(tw) })));
  const res = await fetch(`${tw.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(dpop ? { dpop } : {}) },
    body: form,
  });
  return { status: res.status, body: await res.json() };
}

export const nowSec = (tw: TestWarden): number => Math.floor(tw.clock.now() / 1000);

/** Starts a task and returns its first access token. */
export async function startTask(
  tw: TestWarden,
  agent: TestAgent,
  params: Record<string, string> = {},
): Promise<{ token: string; task: string; body: any }> {
  const res = await tokenRequest(tw, agent, { purpose: 'triage ticket 42', scope: 'github.list_issues', ...params });
  if (res.status !== 200) throw new Error(`token request failed: ${JSON.stringify(res.body)}`);
  return { token: res.body.access_token, task: res.body.task, body: res.body };
}

/** Calls the agent-facing whoami with the token and a proof (each replaceable). */
export async function whoami(
  tw: TestWarden,
  token: string,
  key: AgentKeyPair,
  opts: { proof?: string | null; method?: string; scheme?: string; path?: string; body?: unknown } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const path = opts.path ?? '/agent/v1/whoami';
  const method = opts.method ?? 'GET';
  const proof =
    opts.proof === null
      ? undefined
      : (opts.proof ?? (await createDpopProof(key, { method, url: `${tw.warden.context.urls.base}${path}`, accessToken: token, nowSec: nowSec(tw) })));
  const res = await fetch(`${tw.url}${path}`, {
    method,
    headers: {
      authorization: `${opts.scheme ?? 'DPoP'} ${token}`,
      ...(proof ? { dpop: proof } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}
