import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WardenAgent, type TaskSession } from '../../src/sdk/index.js';
import { pemKey } from '../support/fake-secrets.js';
import { BACKENDS, registerAgent, startWarden, type TestWarden } from '../support/harness.js';

const TOKEN = `tk_${randomBytes(20).toString('hex')}`;

interface Origin {
  readonly url: string;
  readonly seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

/** The API behind Warden: records what reached it; some paths misbehave on purpose. */
async function startOrigin(): Promise<Origin> {
  const seen: Origin['seen'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const path = (req.url ?? '').split('?')[0];
      if (path === '/repos/acme/echo-auth') {
        // A careless API that echoes the credential it was sent.
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ youSent: req.headers.authorization }));
      } else if (path === '/repos/acme/away') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      } else if (path === '/repos/acme/moved') {
        res.writeHead(301, { location: '/repos/acme/here' }).end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, path, method: req.method }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

const config = (origin: string): string => `
approvals: { waitSec: 0, expirySec: 600 }
upstreams:
  http:
    - name: github
      baseUrl: ${origin}
      methods: [GET, POST]
      pathPrefixes: [/repos]
      credentials: [{ secret: github.token, header: Authorization, format: 'Bearer {value}' }]
      allowPrivateNetwork: [127.0.0.1/32]
      maxRequestBytes: 2048
      risk: low
    - name: payments
      baseUrl: ${origin}
      methods: [POST]
      pathPrefixes: [/transfers]
      allowPrivateNetwork: [127.0.0.1/32]
      risk: high
    - name: sneaky
      baseUrl: ${origin}
      risk: low
    - name: metadata
      baseUrl: http://169.254.169.254
      risk: low
    - name: local
      baseUrl: ${origin.replace('127.0.0.1', 'localhost')}
      risk: low
`;

for (const backend of BACKENDS) {
  describe(`the HTTP egress proxy on ${backend}`, () => {
    let origin: Origin;
    let tw: TestWarden;
    let session: TaskSession;
    let approverKey: string;
    const events = async (type: string) => (await tw.admin('GET', `/v1/events?type=${type}&limit=1000`)).body.events as any[];
    const proxy = (path: string, init: RequestInit = {}) => session.fetch(`/proxy/${path}`, init);

    before(async () => {
      origin = await startOrigin();
      tw = await startWarden(backend, { config: config(origin.url) });
      assert.equal((await tw.admin('PUT', '/v1/secrets/github.token', { value: TOKEN })).status, 201);
      const agent = await registerAgent(tw, { capabilities: ['github.*', 'payments.*', 'sneaky.*', 'metadata.*', 'local.*'] });
      approverKey = (await tw.admin('POST', '/v1/persons', { name: 'pat', email: 'pat@example.com', roles: ['approver'] })).body.apiKey;
      const sdk = new WardenAgent({ wardenUrl: tw.warden.context.urls.base, agentId: agent.id, key: agent.key });
      session = await sdk.startTask({ purpose: 'proxy tests', scope: ['github.*', 'payments.post', 'sneaky.get', 'metadata.get', 'local.get'] });
    });
    after(async () => {
      await tw?.close();
      await origin?.close();
    });

    it("forwards an allowed request with the upstream's credential injected and the agent's own credentials stripped", async () => {
      const res = await proxy('github/repos/acme/issues?state=open', { headers: { 'x-forwarded-for': '10.0.0.1', cookie: 'a=b' } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ok: true, path: '/repos/acme/issues', method: 'GET' });
      const got = origin.seen.at(-1)!;
      assert.equal(got.url, '/repos/acme/issues?state=open');
      assert.equal(got.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(got.headers.dpop, undefined);
      assert.equal(got.headers.cookie, undefined);
      assert.equal(got.headers['x-forwarded-for'], undefined);
      const intent = (await events('tool.call')).at(-1);
      assert.equal(intent.chain.tool, 'github.get');
      assert.equal(intent.data.via, 'http');
      assert.equal(intent.data.request.path, '/repos/acme/issues');
      const outcome = (await events('tool.result')).find((e) => e.data.intent === intent.seq);
      assert.equal(outcome.outcome, 'success');
    });

    it('redacts the credential when the upstream echoes it back', async () => {
      const res = await proxy('github/repos/acme/echo-auth');
      const body = await res.text();
      assert.equal(res.status, 200);
      assert.ok(!body.includes(TOKEN), 'the agent never sees the upstream credential');
      assert.match(body, /REDACTED/);
      const outcome = (await events('tool.result')).at(-1);
      assert.ok(outcome.data.redactions.length > 0);
    });

    it('refuses what the upstream does not allow: another method (naming the allowed ones), a path outside its prefixes, traversal', async () => {
      const del = await proxy('github/repos/acme/x', { method: 'DELETE' });
      assert.equal(del.status, 405);
      assert.equal(del.headers.get('allow'), 'GET, POST');
      assert.equal(((await del.json()) as any).error.code, 'EGRESS_METHOD_NOT_ALLOWED');
      for (const path of ['github/admin/users', 'github/repos/../admin', 'github/repos/%2e%2e/admin', 'github/reposX']) {
        const res = await proxy(path);
        assert.equal(res.status, 403, path);
        assert.equal(((await res.json()) as any).error.code, 'EGRESS_PATH_NOT_ALLOWED', path);
      }
      assert.equal(((await (await proxy('nowhere/x')).json()) as any).error.code, 'EGRESS_UPSTREAM_UNKNOWN');
    });

    it('refuses loopback, metadata and names that resolve to them unless the upstream is declared there', async () => {
      const reached = origin.seen.length;
      for (const name of ['sneaky', 'metadata', 'local']) {
        const res = await proxy(`${name}/`);
        assert.equal(res.status, 403, name);
        assert.equal(((await res.json()) as any).error.code, 'EGRESS_ADDRESS_BLOCKED', name);
      }
      assert.equal(origin.seen.length, reached, 'nothing reached the origin on loopback');
    });

    it('does not follow a redirect off the upstream, and rewrites one within it to the proxy path', async () => {
      const away = await proxy('github/repos/acme/away');
      assert.equal(away.status, 502);
      assert.equal(((await away.json()) as any).error.code, 'EGRESS_REDIRECT_BLOCKED');
      const moved = await proxy('github/repos/acme/moved', { redirect: 'manual' });
      assert.equal(moved.status, 301);
      assert.equal(moved.headers.get('location'), '/proxy/github/repos/acme/here');
    });

    it('refuses an oversized body and a body carrying a credential', async () => {
      const big = await proxy('github/repos/acme/issues', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'x'.repeat(4096) }) });
      assert.equal(big.status, 413);
      const leak = await proxy('github/repos/acme/issues', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: pemKey('ec') });
      assert.equal(leak.status, 403);
      assert.equal(((await leak.json()) as any).error.code, 'SECRET_IN_ARGUMENTS');
      assert.ok(!origin.seen.some((s) => s.body.includes('PRIVATE KEY')), 'nothing reached the upstream');
      const denied = (await events('tool.deny')).at(-1);
      assert.equal(denied.error, 'SECRET_IN_ARGUMENTS');
      assert.equal(denied.code, 'W4005W');
      assert.equal(denied.data.upstream, 'github');
    });

    it('holds a high-risk request for approval, bound to its exact body', async () => {
      const send = (body: string) => proxy('payments/transfers', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const first = await send('{"to":"DE89","amount":100}');
      assert.equal(first.status, 403);
      const id = ((await first.json()) as any).error.details.approval;
      assert.equal((await tw.admin('POST', `/v1/approvals/${id}/approve`, {}, approverKey)).status, 200);
      const other = await send('{"to":"DE89","amount":9999}');
      assert.equal(((await other.json()) as any).error.code, 'APPROVAL_PENDING', 'another body is another call');
      const ok = await send('{"to":"DE89","amount":100}');
      assert.equal(ok.status, 200);
      assert.equal(origin.seen.filter((s) => s.url === '/transfers').length, 1, 'exactly the approved request reached the upstream');
    });

    it('refuses a request without a DPoP proof', async () => {
      const token = await session.accessToken();
      const res = await fetch(`${tw.url}/proxy/github/repos/acme/issues`, { headers: { authorization: `DPoP ${token}` } });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as any).error.code, 'DPOP_MISSING');
    });
  });
}
