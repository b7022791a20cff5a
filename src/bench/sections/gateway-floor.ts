import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../audit/audit-log.js';
import { ReplayCache } from '../../credentials/dpop/replay-cache.js';
import { DpopVerifier } from '../../credentials/dpop/verify-proof.js';
import { PublicKeyCache } from '../../credentials/keys/public-jwk.js';
import { createDpopProof, generateAgentKey } from '../../sdk/keys.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { systemClock } from '../../util/clock.js';
import { draft } from './audit.js';

const URL_TEXT = 'http://127.0.0.1:1/proxy/origin/data';
const TOKEN = 'bench-floor-access-token';

/**
 * The part of a call through Warden that no faster pipeline could leave out, run alone in
 * process with Warden's own classes: the DPoP proof's P-256 signature check (on the event loop,
 * as at one call in flight) and two durable audit entries, the intent committed before the
 * outcome (SQLite, as the bench Warden stores them). No HTTP, no policy, no upstream.
 */
export interface GatewayFloor {
  /** Proofs for `n` operations, each used once. */
  prepare(n: number): Promise<string[]>;
  run(proof: string): Promise<void>;
  close(): Promise<void>;
}

export async function startGatewayFloor(): Promise<GatewayFloor> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-bench-floor-'));
  const store = new SqliteStore(join(dir, 'warden.db'), { walCheckpoints: 'background' });
  await store.migrate();
  const log = new AuditLog(store, systemClock);
  const verifier = new DpopVerifier(new PublicKeyCache(), new ReplayCache(70_000, systemClock.now()), systemClock, { maxAgeSec: 60, skewSec: 5, offload: () => false });
  const key = await generateAgentKey('ES256');
  const url = new URL(URL_TEXT);
  let i = 0;
  return {
    prepare: async (n) => {
      const out: string[] = [];
      for (let k = 0; k < n; k++) out.push(await createDpopProof(key, { method: 'GET', url: URL_TEXT, accessToken: TOKEN }));
      return out;
    },
    run: async (proof) => {
      await verifier.verify({ proof, method: 'GET', url, accessToken: TOKEN });
      const intent = await log.record(draft(i++));
      await log.record({ type: 'tool.result', outcome: 'success', actor: intent.actor, subject: intent.subject, chain: intent.chain!, data: { via: 'http', intent: intent.seq, latencyMs: 0.1, bytesIn: 120, redactions: [] } });
    },
    close: async () => {
      await log.drain();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
