import { createPublicKey } from 'node:crypto';
import { WardenAgent } from '../../sdk/agent.js';
import { createDpopProof, generateAgentKey } from '../../sdk/keys.js';
import { registerAgent, startBenchWarden } from '../fixture.js';
import { expectStatus } from '../http-client.js';
import { measureBatched } from '../measure.js';
import type { BenchContext, Row, Section } from '../section.js';
import { microsPerOp } from '../stats.js';
import { rawEd25519Verify, rawP256Sign, rawP256Verify, splitJws } from './raw-crypto.js';

const SCOPE = 'bench.read';
const WHOAMI = '/agent/v1/whoami';

async function run(ctx: BenchContext): Promise<Row[]> {
  const w = await startBenchWarden(ctx.concurrency);
  try {
    const { warden, http } = w;
    const key = await generateAgentKey('ES256');
    const agentId = await registerAgent(w, key, [SCOPE]);
    const session = await new WardenAgent({ wardenUrl: warden.url, agentId, key }).startTask({ purpose: 'bench', scope: [SCOPE] });
    const token = await session.accessToken();
    // Through the SDK once, so the hand-built requests below are known to match what it sends.
    const first = await session.fetch(WHOAMI);
    const me = (await first.json()) as { agent?: unknown };
    if (first.status !== 200 || me.agent !== agentId) throw new Error(`GET ${WHOAMI} through the SDK failed: HTTP ${first.status}`);

    const url = new URL(`${warden.context.urls.base}${WHOAMI}`);
    const authorization = `DPoP ${token}`;
    const signProofs = async (n: number): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(await createDpopProof(key, { method: 'GET', url: url.href, accessToken: token }));
      return out;
    };

    const verifyKey = warden.context.keys.verificationKey(warden.context.keys.signer().kid);
    if (!verifyKey) throw new Error('Warden publishes no verification key for its signer');
    const proofBytes = splitJws((await signProofs(1))[0]!);
    const edVerify = rawEd25519Verify(ctx, verifyKey, splitJws(token));
    const pVerify = rawP256Verify(ctx, createPublicKey(key.privateKey), proofBytes);
    const pSign = rawP256Sign(ctx, key.privateKey, proofBytes.data);

    const inProcess = await measureBatched(
      ctx,
      { id: 'inproc.request-verifier', label: 'RequestVerifier.verify in-process', kind: 'measured', unit: 'req/s', vs: [pVerify.id] },
      {
        prepare: signProofs,
        run: async (dpop) => {
          await warden.context.requests.verify({ authorization, dpop, method: 'GET', url });
        },
        concurrency: 1,
        durationMs: ctx.durations.inProcessMs,
      },
    );

    const healthz = await measureBatched(
      ctx,
      { id: 'http.healthz', label: `GET /healthz (no auth), ${ctx.concurrency} in flight`, kind: 'baseline', unit: 'req/s' },
      {
        prepare: async (n) => new Array<null>(n).fill(null),
        run: async () => expectStatus(await http.send('GET', '/healthz', {}), 200, 'GET /healthz'),
        concurrency: ctx.concurrency,
        durationMs: ctx.durations.httpMs,
      },
    );

    const whoami = await measureBatched(
      ctx,
      {
        id: 'http.whoami',
        label: `GET ${WHOAMI} (DPoP), ${ctx.concurrency} in flight`,
        kind: 'measured',
        unit: 'req/s',
        vs: [healthz.row.id, pVerify.id, edVerify.id],
      },
      {
        prepare: signProofs,
        run: async (dpop) => expectStatus(await http.send('GET', WHOAMI, { authorization, dpop }), 200, `GET ${WHOAMI}`),
        concurrency: ctx.concurrency,
        durationMs: ctx.durations.httpMs,
      },
    );

    const added = microsPerOp(whoami.row.rate) - microsPerOp(healthz.row.rate);
    const client: Row = {
      id: 'client.proof',
      label: 'SDK: DPoP proof with ath per request (jose)',
      kind: 'measured',
      unit: 'proofs/s',
      ...whoami.prepared,
      vs: [pSign.id],
    };
    const pVerifyRow = pVerify.after();
    return [
      edVerify.after(),
      pVerifyRow,
      pSign.after(),
      healthz.row,
      client,
      {
        ...inProcess.row,
        note: `${microsPerOp(inProcess.row.rate).toFixed(0)} µs per request; one P-256 verify is ${microsPerOp(pVerifyRow.rate).toFixed(0)} µs`,
      },
      { ...whoami.row, note: `authentication adds ${added.toFixed(0)} µs per request over /healthz (client and server together)` },
    ];
  } finally {
    await w.close();
  }
}

export const authenticate: Section = {
  name: 'authenticate',
  title: 'Requests authenticated per second',
  notes: [
    'One task token for every request: Warden verifies its Ed25519 signature once and caches it, so per request it checks the DPoP proof (one P-256 verify), ath, replay and revocation.',
    'Proofs are signed before each round and not timed ("SDK" is that cost alone); /healthz runs on the same server and client, so the ratio shows what authentication adds over bare HTTP.',
  ],
  run,
};
