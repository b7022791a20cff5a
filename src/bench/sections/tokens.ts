import { createPublicKey } from 'node:crypto';
import { CLIENT_ASSERTION_TYPE } from '../../credentials/client-assertion/verify.js';
import { WardenAgent } from '../../sdk/agent.js';
import { createClientAssertion, createDpopProof, generateAgentKey, type AgentKeyPair } from '../../sdk/keys.js';
import { registerAgent, startBenchWarden } from '../fixture.js';
import { expectStatus } from '../http-client.js';
import { measureBatched } from '../measure.js';
import type { BenchContext, Row, Section } from '../section.js';
import { microsPerOp, serialRate } from '../stats.js';
import { rawEd25519Sign, rawEd25519Verify, rawP256Sign, rawP256Verify, splitJws } from './raw-crypto.js';

/** One token request as the SDK sends it: form body with a client assertion, and a DPoP proof. */
interface TokenRequest {
  readonly body: string;
  readonly dpop: string;
}

const SCOPE = 'bench.read';
const BOUND_ID = 'bound.crypto';

/** Signs `n` requests the way `WardenAgent.requestToken` does: fresh assertion and proof each. */
async function signRequests(key: AgentKeyPair, agentId: string, endpoint: string, form: Record<string, string>, n: number): Promise<TokenRequest[]> {
  const out: TokenRequest[] = [];
  for (let i = 0; i < n; i++) {
    const body = new URLSearchParams({
      ...form,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await createClientAssertion(key, { agentId, audience: endpoint }),
    }).toString();
    out.push({ body, dpop: await createDpopProof(key, { method: 'POST', url: endpoint }) });
  }
  return out;
}

function checkTokenResponse(body: unknown): void {
  const r = body as { token_type?: unknown; access_token?: unknown };
  if (r.token_type !== 'DPoP' || typeof r.access_token !== 'string') throw new Error('token response without a DPoP access token');
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const w = await startBenchWarden(ctx.concurrency);
  try {
    const { warden, http } = w;
    const key = await generateAgentKey('ES256');
    const agentId = await registerAgent(w, key, [SCOPE]);
    // One task started through the SDK itself: the pre-signed requests below must match what
    // the SDK sends, and this proves they are accepted before anything is timed.
    const session = await new WardenAgent({ wardenUrl: warden.url, agentId, key }).startTask({ purpose: 'bench', scope: [SCOPE] });
    const token = await session.accessToken();
    const endpoint = warden.context.urls.tokenEndpoint;
    const refreshForm = { grant_type: 'client_credentials', task: session.taskId };
    const newTaskForm = { grant_type: 'client_credentials', purpose: 'bench', scope: SCOPE };

    const signer = warden.context.keys.signer();
    const verifyKey = warden.context.keys.verificationKey(signer.kid);
    if (!verifyKey) throw new Error('Warden publishes no verification key for its signer');
    const tokenBytes = splitJws(token);
    const proofBytes = splitJws(await createDpopProof(key, { method: 'POST', url: endpoint }));
    const edSign = rawEd25519Sign(ctx, signer.privateKey, tokenBytes.data);
    const edVerify = rawEd25519Verify(ctx, verifyKey, tokenBytes);
    const pSign = rawP256Sign(ctx, key.privateKey, proofBytes.data);
    const pVerify = rawP256Verify(ctx, createPublicKey(key.privateKey), proofBytes);

    // In-process twice: one call at a time shows the latency of a token on its own; as many
    // calls as HTTP has in flight shows the throughput without HTTP, comparable with the rows below.
    const inProcess = (inFlight: number, id: string) =>
      measureBatched(
        ctx,
        {
          id,
          label: `TokenEndpoint.handle in-process, task refresh, ${inFlight} at a time`,
          kind: 'measured',
          unit: 'tokens/s',
          vs: [BOUND_ID, edSign.id],
        },
        {
          prepare: (n) => signRequests(key, agentId, endpoint, refreshForm, n),
          run: async (r) => checkTokenResponse(await warden.context.tokenEndpoint.handle(new URLSearchParams(r.body), r.dpop)),
          concurrency: inFlight,
          durationMs: ctx.durations.inProcessMs,
        },
      );
    const serial = await inProcess(1, 'inproc.token.refresh.serial');
    const concurrent = await inProcess(ctx.concurrency, 'inproc.token.refresh');

    const httpLoad = (form: Record<string, string>) => ({
      prepare: (n: number) => signRequests(key, agentId, endpoint, form, n),
      run: async (r: TokenRequest) => {
        const res = await http.send('POST', '/oauth/token', { 'content-type': 'application/x-www-form-urlencoded', dpop: r.dpop }, r.body);
        expectStatus(res, 200, 'POST /oauth/token');
      },
      concurrency: ctx.concurrency,
      durationMs: ctx.durations.httpMs,
    });
    const vsHttp = [edSign.id, edVerify.id, BOUND_ID, concurrent.row.id];
    const refresh = await measureBatched(
      ctx,
      { id: 'http.token.refresh', label: `POST /oauth/token, task refresh, ${ctx.concurrency} in flight`, kind: 'measured', unit: 'tokens/s', vs: vsHttp },
      httpLoad(refreshForm),
    );
    const newTask = await measureBatched(
      ctx,
      { id: 'http.token.new-task', label: `POST /oauth/token, new task, ${ctx.concurrency} in flight`, kind: 'measured', unit: 'tokens/s', vs: vsHttp },
      httpLoad(newTaskForm),
    );

    const baselines = [edSign.after(), edVerify.after(), pSign.after(), pVerify.after()] as const;
    const [edSignRow, , , pVerifyRow] = baselines;
    const cryptoRate = serialRate([pVerifyRow.rate, pVerifyRow.rate, edSignRow.rate]);
    const bound: Row = {
      id: BOUND_ID,
      label: 'server signature work per token: 2 P-256 verify + 1 Ed25519 sign',
      kind: 'baseline',
      unit: 'op/s',
      rate: cryptoRate,
      ops: 0,
      seconds: 0,
      derivedFrom: [pVerify.id, edSign.id],
      note: `1 / (2/P-256 verify + 1/Ed25519 sign) = ${microsPerOp(cryptoRate).toFixed(0)} µs per token: the ceiling if signatures were all a token cost`,
    };
    // Signing happened between rounds with the server idle: the client's cost, on its own.
    const client: Row = {
      id: 'client.sign',
      label: 'SDK: client assertion + DPoP proof per request (jose)',
      kind: 'measured',
      unit: 'requests/s',
      ...refresh.prepared,
      vs: [pSign.id],
      note: 'two ES256 signatures per request: 0.5× raw P-256 sign is the ceiling',
    };
    return [
      ...baselines,
      bound,
      client,
      { ...serial.row, note: `${microsPerOp(serial.row.rate).toFixed(0)} µs per token, ${microsPerOp(cryptoRate).toFixed(0)} µs of it signatures` },
      { ...concurrent.row, vs: [...(concurrent.row.vs ?? []), serial.row.id] },
      refresh.row,
      newTask.row,
    ];
  } finally {
    await w.close();
  }
}

export const tokens: Section = {
  name: 'tokens',
  title: 'Tokens issued per second',
  notes: [
    'Each request carries a fresh client assertion (RFC 7523) and DPoP proof (RFC 9449), signed before its round and not timed: "SDK" is that cost alone.',
    'A task refresh verifies both, remembers the assertion jti in SQLite, signs an Ed25519 token and appends an event; a new task also inserts the task and a second event.',
  ],
  run,
};
