import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WardenAgent, type TaskSession } from '../../src/sdk/index.js';
import { createDpopProof, generateAgentKey } from '../../src/sdk/keys.js';
import { pemKey } from '../support/fake-secrets.js';
import { BACKENDS, registerAgent, startWarden, type TestAgent, type TestWarden } from '../support/harness.js';
import { everythingServer, fixture } from '../support/mcp-upstreams.js';
import { eventually } from '../support/eventually.js';
import { mcpRefusal as mcpError } from '../support/mcp-refusal.js';

const SECRET = `dk_${randomBytes(18).toString('hex')}`;

const config = (extra = ''): string => `
approvals: { waitSec: 0, expirySec: 600 }
limits: { agent: { ratePerSec: 1000, burst: 1000 } }
upstreams:
  mcp:
    - name: everything
      transport: stdio
      command: ${JSON.stringify(process.execPath)}
      args: [${JSON.stringify(everythingServer())}, stdio]
      env: { DEMO_API_KEY: { secret: demo.api-key } }
      defaults: { risk: low }
      tools:
        get-sum: { risk: high }
        toggle-simulated-logging: { hidden: true }
    - name: notes
      transport: stdio
      command: ${JSON.stringify(process.execPath)}
      args: [${JSON.stringify(fixture('rug-pull.mjs'))}]
      defaults: { risk: low }
    # A tool that takes a credential by design (as a password change does): here, echo's message.
    - name: vault
      transport: stdio
      command: ${JSON.stringify(process.execPath)}
      args: [${JSON.stringify(everythingServer())}, stdio]
      defaults: { risk: low }
      tools:
        echo: { risk: high, secretArgs: [message] }
${extra}`;

const POLICY = `
@id("no-forbidden-echo")
forbid(principal, action == Warden::Action::"everything.echo", resource)
when { context.args has message && context.args.message like "*forbidden*" };
`;


const text = (r: any): string => (r.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');


for (const backend of BACKENDS) {
  describe(`the MCP gateway with real MCP servers on ${backend}`, () => {
    let tw: TestWarden;
    let agent: TestAgent;
    let sdk: WardenAgent;
    let session: TaskSession;
    let client: Client;
    let approverKey: string;

    const connect = async (s: TaskSession): Promise<Client> => {
      const c = new Client({ name: 'warden-test', version: '1.0.0' });
      await c.connect(s.mcpTransport());
      return c;
    };
    const events = async (type: string) => (await tw.admin('GET', `/v1/events?type=${type}&limit=1000`)).body.events as any[];

    before(async () => {
      tw = await startWarden(backend, { config: config() });
      assert.equal((await tw.admin('PUT', '/v1/secrets/demo.api-key', { value: SECRET })).status, 201);
      agent = await registerAgent(tw, { capabilities: ['everything.*', 'notes.*', 'vault.*'] });
      const approver = await tw.admin('POST', '/v1/persons', { name: 'ana', email: 'ana@example.com', roles: ['approver'] });
      approverKey = approver.body.apiKey;
      sdk = new WardenAgent({ wardenUrl: tw.warden.context.urls.base, agentId: agent.id, key: agent.key });
      session = await sdk.startTask({ purpose: 'gateway tests', scope: ['everything.*', 'notes.read_notes', 'notes.rewrite', 'notes.die'] });
      client = await connect(session);
      // Listing starts the upstreams and pins their tools; then a policy may name them.
      await client.listTools();
      await writeFile(join(tw.dataDir, 'policies', 'gateway.cedar'), POLICY);
      const reload = await tw.admin('POST', '/v1/policy/reload', {});
      assert.equal(reload.status, 200, JSON.stringify(reload.body));
    });
    after(async () => {
      await client?.close().catch(() => undefined);
      await tw?.close();
    });

    it('lists the tools of every upstream under its namespace, only as far as the task scope reaches, hidden ones left out', async () => {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('everything.echo'));
      assert.ok(names.includes('everything.get-env'));
      assert.ok(names.includes('notes.read_notes'));
      assert.ok(!names.includes('everything.toggle-simulated-logging'), 'hidden by config');
      assert.ok(names.every((n) => n.startsWith('everything.') || ['notes.read_notes', 'notes.rewrite', 'notes.die'].includes(n)));

      const narrow = await sdk.startTask({ purpose: 'echo only', scope: ['everything.echo'] });
      const c2 = await connect(narrow);
      assert.deepEqual((await c2.listTools()).tools.map((t) => t.name), ['everything.echo']);
      const refused = await mcpError(c2.callTool({ name: 'notes.read_notes', arguments: { project: 'x' } }));
      assert.equal(refused.code, 'SCOPE_DENIED');
      await c2.close();
    });

    it('forwards an allowed call and records its intent before, and its outcome after', async () => {
      const r = await client.callTool({ name: 'everything.echo', arguments: { message: 'hello gateway' } });
      assert.equal(text(r), 'Echo: hello gateway');
      const intent = (await events('tool.call')).filter((e) => e.chain.tool === 'everything.echo').at(-1);
      const outcome = (await events('tool.result')).find((e) => e.data.intent === intent.seq);
      assert.ok(intent && outcome, 'both entries exist');
      assert.ok(intent.seq < outcome.seq);
      assert.equal(intent.chain.decision.effect, 'allow');
      assert.match(intent.chain.agentKey, /^[A-Za-z0-9_-]{43}$/, 'the key the agent proved');
      assert.equal(intent.chain.task, session.taskId);
      assert.deepEqual(outcome.chain.task, session.taskId);
      assert.match(intent.chain.argsDigest, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(outcome.outcome, 'success');
      assert.match(outcome.chain.resultDigest, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(outcome.data.bytesIn > 0);
      assert.ok(!JSON.stringify(intent).includes('hello gateway'), 'arguments are recorded by digest only');
    });

    it('refuses a call a policy forbids, without forwarding it', async () => {
      const before = (await events('tool.call')).length;
      const refused = await mcpError(client.callTool({ name: 'everything.echo', arguments: { message: 'this is forbidden' } }));
      assert.equal(refused.code, 'POLICY_DENIED');
      assert.deepEqual(refused.details.policies, ['no-forbidden-echo']);
      assert.equal((await events('tool.call')).length, before, 'no intent: nothing left Warden');
    });

    it('holds a high-risk call for an approver, then lets exactly that call through once', async () => {
      const pending = await mcpError(client.callTool({ name: 'everything.get-sum', arguments: { a: 2, b: 3 } }));
      assert.equal(pending.code, 'APPROVAL_PENDING');
      const id = pending.details.approval as string;
      assert.equal((await tw.admin('POST', `/v1/approvals/${id}/approve`, {}, approverKey)).status, 200);
      // Other arguments are another call: not approved.
      assert.equal((await mcpError(client.callTool({ name: 'everything.get-sum', arguments: { a: 2, b: 4 } }))).code, 'APPROVAL_PENDING');
      const r = await client.callTool({ name: 'everything.get-sum', arguments: { a: 2, b: 3 } });
      assert.match(text(r), /5/);
      const intent = (await events('tool.call')).filter((e) => e.chain.tool === 'everything.get-sum').at(-1);
      assert.deepEqual(intent.chain.approvals, [id]);
      assert.equal((await mcpError(client.callTool({ name: 'everything.get-sum', arguments: { a: 2, b: 3 } }))).code, 'APPROVAL_PENDING', 'once per approval');
    });

    it('injects the secret into the upstream and redacts it when the upstream echoes it back', async () => {
      const r = await client.callTool({ name: 'everything.get-env', arguments: {} });
      const out = text(r);
      assert.ok(out.includes('DEMO_API_KEY'), 'the upstream got the variable');
      assert.ok(!out.includes(SECRET), 'the agent never sees the value');
      assert.match(out, /\[REDACTED:known-value\]/);
      assert.ok(!out.includes('WARDEN_'), "none of Warden's own environment reached the upstream");
      const outcome = (await events('tool.result')).filter((e) => e.chain.tool === 'everything.get-env').at(-1);
      assert.ok(outcome.data.redactions.some((f: any) => f.detector === 'known-value'));
      assert.ok(!JSON.stringify(await events('tool.result')).includes(SECRET));
    });

    it('blocks a call whose arguments carry a credential', async () => {
      const refused = await mcpError(client.callTool({ name: 'everything.echo', arguments: { message: `here: ${pemKey('pkcs8')}` } }));
      assert.equal(refused.code, 'SECRET_IN_ARGUMENTS');
      assert.ok(refused.details.detectors.includes('private-key'));
    });

    it('lets a credential through an argument the tool takes one in by design, and shows it to nobody', async () => {
      const key = pemKey('pkcs8');
      assert.equal((await mcpError(client.callTool({ name: 'everything.echo', arguments: { message: key } }))).code, 'SECRET_IN_ARGUMENTS');
      const vault = await sdk.startTask({ purpose: 'store the deploy key', scope: ['vault.echo'] });
      const c = await connect(vault);
      try {
        const pending = await mcpError(c.callTool({ name: 'vault.echo', arguments: { message: key } }));
        assert.equal(pending.code, 'APPROVAL_PENDING', 'not refused by the argument scan: held for the approver its risk asks for');
        const id = pending.details.approval as string;
        const shown = await tw.admin('GET', `/v1/approvals/${id}`, undefined, approverKey);
        assert.equal(shown.status, 200);
        assert.deepEqual(shown.body.approval.args, { message: '[secret]' });
        assert.equal((await tw.admin('POST', `/v1/approvals/${id}/approve`, {}, approverKey)).status, 200);
        const r = await c.callTool({ name: 'vault.echo', arguments: { message: key } });
        assert.ok(!text(r).includes(key), 'the echo of the key is still redacted on its way back');
        const all = JSON.stringify([...(await events('tool.call')), ...(await events('tool.result')), ...(await events('approval.request'))]);
        assert.ok(!all.includes(key.split('\n')[1]!), 'nor is it in the audit log');
      } finally {
        await c.close().catch(() => undefined);
      }
    });

    it('refuses a stolen token: without the agent key a proof cannot be made', async () => {
      const token = await session.accessToken();
      const thief = await generateAgentKey();
      const url = `${tw.warden.context.urls.base}/mcp`;
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'thief', version: '1' } } });
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      const withThiefProof = await fetch(url, { method: 'POST', body, headers: { ...headers, authorization: `DPoP ${token}`, dpop: await createDpopProof(thief, { method: 'POST', url, accessToken: token }) } });
      assert.equal(withThiefProof.status, 401);
      assert.equal(((await withThiefProof.json()) as any).error.code, 'DPOP_KEY_MISMATCH');
      assert.match(withThiefProof.headers.get('www-authenticate') ?? '', /^DPoP /);
      const asBearer = await fetch(url, { method: 'POST', body, headers: { ...headers, authorization: `Bearer ${token}` } });
      assert.equal(asBearer.status, 401);
    });

    it("keeps a session to its task: another task's token finds no session", async () => {
      const other = await sdk.startTask({ purpose: 'other', scope: ['everything.echo'] });
      const sessionId = (client.transport as { sessionId?: string }).sessionId;
      assert.ok(sessionId);
      const res = await other.fetch('/mcp', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
      });
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as any).error.code, 'MCP_SESSION_NOT_FOUND');
    });

    it('answers a tools/call the same whether the SDK transport or the gateway itself writes it, and leaves other requests to the SDK', async () => {
      const sessionId = (client.transport as { sessionId?: string }).sessionId!;
      const post = (body: unknown, headers: Record<string, string> = {}) =>
        session.fetch('/mcp', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18', ...headers },
          body: JSON.stringify(body),
        });
      const messages = async (res: Response) => (await res.text()).split('\n\n').filter((e) => e.includes('data: ')).map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6)));
      const call = (id: number, message: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'everything.echo', arguments: { message } } });

      for (const message of ['same either way', 'forbidden either way']) {
        // A single request is answered by the gateway; a batch of one goes through the SDK.
        const direct = await post(call(41, message));
        const viaSdk = await post([call(42, message)]);
        for (const res of [direct, viaSdk]) {
          assert.equal(res.status, 200);
          assert.equal(res.headers.get('content-type'), 'text/event-stream');
          assert.equal(res.headers.get('mcp-session-id'), sessionId);
          assert.equal(res.headers.get('cache-control'), 'no-cache, no-transform');
        }
        const [a] = await messages(direct);
        const [b] = await messages(viaSdk);
        assert.equal(a.id, 41);
        assert.equal(b.id, 42);
        assert.deepEqual({ ...a, id: 0 }, { ...b, id: 0 }, message);
        if (message.startsWith('forbidden')) assert.equal(a.error.data.code, 'POLICY_DENIED');
        else assert.equal(a.result.content[0].text, 'Echo: same either way');
      }
      // What the SDK refuses, it still refuses: the gateway only answers what it would accept.
      assert.equal((await post(call(43, 'x'), { accept: 'application/json' })).status, 406);
      assert.equal((await post(call(44, 'x'), { 'mcp-protocol-version': '1999-01-01' })).status, 400);
      assert.equal((await post(call(45, 'x'), { 'content-type': 'text/plain' })).status, 415);
    });

    it("relays the upstream's progress to an agent that asked for it, numbers only, before the answer, on both paths", async () => {
      const tool = 'everything.trigger-long-running-operation';
      // The SDK client asks with a token of its own and hands each notification to onprogress.
      // Its last one comes right before the answer; when both land in one read the SDK client
      // drops it (modelcontextprotocol/typescript-sdk#2580, its own race), so only the reports
      // before are certain here. The raw answers below show that Warden sends every one.
      const seen: unknown[] = [];
      const r = await client.callTool({ name: tool, arguments: { duration: 0.3, steps: 3 } }, undefined, { onprogress: (p) => seen.push(p) });
      assert.match(text(r), /Long running operation completed/);
      assert.deepEqual(seen.slice(0, 2), [1, 2].map((progress) => ({ progress, total: 3 })));
      assert.ok(seen.length === 2 || (seen.length === 3 && JSON.stringify(seen[2]) === JSON.stringify({ progress: 3, total: 3 })), JSON.stringify(seen));

      // Raw: a single call (answered by the gateway) and a batch of one (by the SDK's transport).
      const sessionId = (client.transport as { sessionId?: string }).sessionId!;
      const post = (body: unknown) =>
        session.fetch('/mcp', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
          body: JSON.stringify(body),
        });
      const messages = async (res: Response) => (await res.text()).split('\n\n').filter((e) => e.includes('data: ')).map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6)));
      const call = (id: string, meta?: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: { duration: 0.2, steps: 2 }, ...(meta ? { _meta: meta } : {}) } });
      for (const [what, body] of [['the gateway', call('p-1', { progressToken: 'agent-1' })], ['the SDK', [call('p-2', { progressToken: 'agent-2' })]]] as const) {
        const token = what === 'the gateway' ? 'agent-1' : 'agent-2';
        const got = await messages(await post(body));
        assert.deepEqual(
          got.slice(0, -1),
          [1, 2].map((progress) => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress, total: 2 } })),
          what,
        );
        assert.match(got.at(-1).result.content[0].text, /completed/, what);
      }
      // No token, no progress: the answer alone.
      const plain = await messages(await post(call('p-3')));
      assert.equal(plain.length, 1);
      assert.equal(plain[0].id, 'p-3');
    });

    it('cancels a call in flight when the agent cancels it, records it as cancelled, and serves the next', async () => {
      const controller = new AbortController();
      const started = Date.now();
      // Only this test's calls count (earlier tests may have run the same tool to its end).
      const callsBefore = (await events('tool.call')).length;
      const resultsBefore = (await events('tool.result')).length;
      const pending = client.callTool({ name: 'everything.trigger-long-running-operation', arguments: { duration: 30, steps: 30 } }, undefined, { signal: controller.signal });
      await eventually(async () => ((await events('tool.call')).slice(callsBefore).some((e) => e.chain.tool === 'everything.trigger-long-running-operation') ? true : undefined), 'the call is under way');
      controller.abort('the agent changed its mind');
      await assert.rejects(pending);
      const outcome = await eventually(
        async () => (await events('tool.result')).slice(resultsBefore).find((e) => e.chain.tool === 'everything.trigger-long-running-operation'),
        'the outcome of the cancelled call is recorded',
      );
      assert.equal(outcome.outcome, 'failure');
      assert.equal(outcome.error, 'CALL_CANCELLED');
      assert.ok(Date.now() - started < 20_000, 'well before the operation would have ended');
      // The session serves the next call.
      assert.equal(text(await client.callTool({ name: 'everything.echo', arguments: { message: 'after' } })), 'Echo: after');

      // The same for a call the SDK's transport carries (a batch of one).
      const sessionId = (client.transport as { sessionId?: string }).sessionId!;
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' };
      const stream = new AbortController();
      const batch = session.fetch('/mcp', {
        method: 'POST',
        headers,
        body: JSON.stringify([{ jsonrpc: '2.0', id: 'slow-1', method: 'tools/call', params: { name: 'everything.trigger-long-running-operation', arguments: { duration: 30, steps: 30 } } }]),
        signal: stream.signal,
      });
      const before = (await events('tool.result')).length;
      await eventually(async () => ((await events('tool.call')).slice(callsBefore).filter((e) => e.chain.tool === 'everything.trigger-long-running-operation').length === 2 ? true : undefined), 'the batched call is under way');
      const cancel = await session.fetch('/mcp', { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'slow-1', reason: 'no longer needed' } }) });
      assert.equal(cancel.status, 202);
      const second = await eventually(async () => (await events('tool.result')).slice(before).find((e) => e.chain.tool === 'everything.trigger-long-running-operation'), 'the outcome of the batched call is recorded');
      assert.equal(second.error, 'CALL_CANCELLED');
      stream.abort();
      await batch.then((r) => r.body?.cancel()).catch(() => undefined);
    });

    it('frees the MCP sessions of a task that ended: at once here, by the sweep when another replica ended it', async () => {
      const gateway = tw.warden.context.gateway!;
      const done = await sdk.startTask({ purpose: 'finishes', scope: ['everything.echo'] });
      const c1 = await connect(done);
      await c1.callTool({ name: 'everything.echo', arguments: { message: 'one' } });
      assert.equal(gateway.sessionsOf(done.taskId), 1);
      await done.end();
      assert.equal(gateway.sessionsOf(done.taskId), 0, 'completing the task closed its session');
      await c1.close().catch(() => undefined);

      const revoked = await sdk.startTask({ purpose: 'revoked by an admin', scope: ['everything.echo'] });
      const c2 = await connect(revoked);
      assert.equal(gateway.sessionsOf(revoked.taskId), 1);
      assert.equal((await tw.admin('POST', `/v1/tasks/${revoked.taskId}/revoke`, { reason: 'test' })).status, 200);
      assert.equal(gateway.sessionsOf(revoked.taskId), 0, 'revoking the task closed its session');
      await c2.close().catch(() => undefined);

      // Ended elsewhere: this replica only learns it from the revocation list.
      const elsewhere = await sdk.startTask({ purpose: 'ended on another replica', scope: ['everything.echo'] });
      const c3 = await connect(elsewhere);
      assert.equal(gateway.sessionsOf(elsewhere.taskId), 1);
      const now = Date.now();
      await tw.warden.context.revocations.revoke({ kind: 'task', value: elsewhere.taskId, reason: 'test', createdAt: now, expiresAt: now + 60_000, liftedAt: null });
      await gateway.sweep();
      assert.equal(gateway.sessionsOf(elsewhere.taskId), 0, 'the sweep closed it');
      assert.equal(gateway.sessionsOf(session.taskId), 1, 'a live task keeps its session');
      await c3.close().catch(() => undefined);
    });

    it('fails a call at once when its upstream dies mid-call, and restarts the upstream for the next', async () => {
      const started = Date.now();
      const died = await mcpError(client.callTool({ name: 'notes.die', arguments: {} }));
      assert.equal(died.code, 'UPSTREAM_UNAVAILABLE');
      assert.ok(Date.now() - started < 20_000, 'no hang');
      const failed = (await events('tool.result')).filter((e) => e.chain.tool === 'notes.die').at(-1);
      assert.equal(failed.outcome, 'failure');
      assert.equal(failed.error, 'UPSTREAM_UNAVAILABLE');
      assert.equal(failed.code, 'W4004E');
      const r = await eventually(
        async () => client.callTool({ name: 'notes.read_notes', arguments: { project: 'warden' } }).catch(() => undefined),
        'the upstream restarts',
      );
      assert.equal(text(r), 'notes of warden');
    });

    it('withholds a tool whose upstream changed its definition until an admin accepts exactly that change', async () => {
      await client.callTool({ name: 'notes.rewrite', arguments: {} });
      // The upstream announces the change; the gateway lists again and flags it.
      const tool = await eventually(async () => {
        const t = (await tw.admin('GET', '/v1/tools/notes.read_notes')).body.tool;
        return t?.status === 'changed' ? t : undefined;
      }, 'the change is flagged');
      assert.deepEqual(tool.changed, ['description', 'inputSchema']);
      assert.match(tool.pendingDefinition.description, /id_rsa/);
      assert.match(tool.definition.description, /^Reads the notes of a project\.$/);
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(!names.includes('notes.read_notes'), 'withheld from tools/list');
      assert.equal((await mcpError(client.callTool({ name: 'notes.read_notes', arguments: { project: 'x' } }))).code, 'TOOL_WITHHELD');
      const changes = (await events('tool.change')).filter((e) => e.subject === 'notes.read_notes');
      assert.equal(changes.length, 1);

      const wrong = await tw.admin('POST', '/v1/tools/notes.read_notes/accept', { digest: tool.digest });
      assert.equal(wrong.status, 409);
      assert.equal(wrong.body.error.code, 'TOOL_NOT_CHANGED');
      const ok = await tw.admin('POST', '/v1/tools/notes.read_notes/accept', { digest: tool.pendingDigest });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(text(await client.callTool({ name: 'notes.read_notes', arguments: { project: 'y' } })), 'notes of y');
    });
  });
}

describe('task budgets and agent rates at the gateway', () => {
  let tw: TestWarden;
  let sdk: WardenAgent;
  before(async () => {
    tw = await startWarden('sqlite', { config: config('limits:\n  task: { calls: 3 }\n  agent: { ratePerSec: 0.5, burst: 5 }\n').replace('limits: { agent: { ratePerSec: 1000, burst: 1000 } }\n', '') });
    await tw.admin('PUT', '/v1/secrets/demo.api-key', { value: SECRET });
    const agent = await registerAgent(tw, { capabilities: ['everything.*'] });
    sdk = new WardenAgent({ wardenUrl: tw.warden.context.urls.base, agentId: agent.id, key: agent.key });
  });
  after(() => tw?.close());

  it('fails the call past the task budget with BUDGET_EXCEEDED, and past the agent rate with RATE_LIMITED', async () => {
    const s = await sdk.startTask({ purpose: 'budget', scope: ['everything.echo'] });
    const c = new Client({ name: 't', version: '1' });
    await c.connect(s.mcpTransport());
    for (let i = 0; i < 3; i++) assert.equal(text(await c.callTool({ name: 'everything.echo', arguments: { message: `m${i}` } })), `Echo: m${i}`);
    const over = await mcpError(c.callTool({ name: 'everything.echo', arguments: { message: 'one more' } }));
    assert.equal(over.code, 'BUDGET_EXCEEDED');
    assert.equal(over.details.limit, 'calls');
    // The agent's burst of 5 is spent (3 calls and the refused one, plus this): the rate holds.
    const s2 = await sdk.startTask({ purpose: 'rate', scope: ['everything.echo'] });
    const c2 = new Client({ name: 't', version: '1' });
    await c2.connect(s2.mcpTransport());
    await c2.callTool({ name: 'everything.echo', arguments: { message: 'last of the burst' } });
    const limited = await mcpError(c2.callTool({ name: 'everything.echo', arguments: { message: 'too fast' } }));
    assert.equal(limited.code, 'RATE_LIMITED');
    assert.ok(limited.details.retryAfterMs > 0);
    await c.close();
    await c2.close();
  });
});
