import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BACKENDS, registerAgent, startWarden, type TestWarden } from '../support/harness.js';

/** Every route that takes a body, with a path that exists once an agent and task do. */
function bodyRoutes(agentId: string): string[] {
  return [
    '/oauth/token',
    '/v1/agents',
    `/v1/agents/${agentId}/suspend`,
    `/v1/agents/${agentId}/retire`,
    `/v1/agents/${agentId}/keys`,
    '/v1/persons',
    '/v1/tokens/revoke',
    '/v1/tasks/tsk_000000000000000000000000/revoke',
    '/v1/signing-keys/rotate',
    '/agent/v1/task/complete',
  ];
}

for (const backend of BACKENDS) {
  describe(`hostile input on ${backend}`, () => {
    let tw: TestWarden;
    let agentId: string;
    before(async () => {
      tw = await startWarden(backend);
      agentId = (await registerAgent(tw)).id;
    });
    after(async () => {
      await tw?.close();
    });

    async function post(path: string, body: string | Buffer, contentType: string | null): Promise<{ status: number; body: any }> {
      const res = await fetch(`${tw.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tw.adminKey}`, ...(contentType ? { 'content-type': contentType } : {}) },
        body,
      });
      const text = await res.text();
      let parsed: any;
      assert.doesNotThrow(() => (parsed = JSON.parse(text)), `${path} answered with JSON`);
      return { status: res.status, body: parsed };
    }

    const codeOf = (r: { body: any }) => r.body.warden_code ?? r.body.error?.code;

    it('answers malformed JSON on every endpoint with a 4xx and a stable code', async () => {
      for (const path of bodyRoutes(agentId)) {
        const r = await post(path, '{"name": "x",', 'application/json');
        assert.ok(r.status >= 400 && r.status < 500, `${path} -> ${r.status}`);
        assert.ok(['INVALID_INPUT', 'UNSUPPORTED_MEDIA_TYPE', 'CRED_MISSING'].includes(codeOf(r)), `${path} -> ${codeOf(r)}`);
      }
    });

    it('answers oversized bodies on every endpoint with PAYLOAD_TOO_LARGE', async () => {
      const big = Buffer.alloc(2 * 1024 * 1024, 'a');
      for (const path of bodyRoutes(agentId)) {
        const ct = path === '/oauth/token' ? 'application/x-www-form-urlencoded' : 'application/json';
        const r = await post(path, big, ct);
        assert.equal(r.status, 413, path);
        assert.equal(codeOf(r), 'PAYLOAD_TOO_LARGE', path);
      }
    });

    it('answers unsupported content types with a 4xx', async () => {
      for (const path of bodyRoutes(agentId)) {
        const r = await post(path, '<xml/>', 'application/xml');
        assert.ok(r.status === 415 || r.status === 401, `${path} -> ${r.status}`);
      }
      const json = await post('/oauth/token', '{"grant_type":"client_credentials"}', 'application/json');
      assert.equal(json.status, 415);
      assert.equal(json.body.warden_code, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('rejects prototype-poisoning JSON', async () => {
      const r = await post('/v1/agents', '{"__proto__": {"admin": true}, "name": "x"}', 'application/json');
      assert.equal(r.status, 400);
      assert.equal(codeOf(r), 'INVALID_INPUT');
    });

    it('rejects agent registrations of the wrong shape, naming the fields and not echoing values', async () => {
      const secretLooking = 'sk_live_0123456789abcdefghijklmnop';
      const r = await post(
        '/v1/agents',
        JSON.stringify({ name: secretLooking, owner: 5, riskCategory: 'catastrophic', capabilities: 'all', publicKeys: [], extra: 1 }),
        'application/json',
      );
      assert.equal(r.status, 400);
      assert.equal(codeOf(r), 'INVALID_INPUT');
      const text = JSON.stringify(r.body);
      assert.ok(!text.includes(secretLooking), 'the offending value is not echoed');
      for (const field of ['name', 'owner', 'riskCategory', 'capabilities', 'publicKeys']) assert.ok(text.includes(field), field);
    });

    it('rejects token requests with missing, repeated or unknown parameters', async () => {
      const form = (s: string) => post('/oauth/token', s, 'application/x-www-form-urlencoded');
      assert.equal((await form('')).body.warden_code, 'INVALID_INPUT');
      assert.equal((await form('grant_type=password&username=a&password=b')).body.error, 'unsupported_grant_type');
      const repeated = await form('grant_type=client_credentials&grant_type=client_credentials');
      assert.equal(repeated.body.warden_code, 'INVALID_INPUT');
      const noProof = await form('grant_type=client_credentials&scope=a');
      assert.equal(noProof.body.warden_code, 'DPOP_MISSING');
      assert.equal((await form('%%%&&&===')).status, 400);
    });

    it('rejects admin calls without a credential, with a bad one, or with too few rights', async () => {
      const none = await fetch(`${tw.url}/v1/agents`);
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as any).error.code, 'AUTH_REQUIRED');
      const bad = await tw.admin('GET', '/v1/agents', undefined, 'wdn_key_000000000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      assert.equal(bad.body.error.code, 'AUTH_INVALID');
      const junk = await tw.admin('GET', '/v1/agents', undefined, 'not-a-key');
      assert.equal(junk.body.error.code, 'AUTH_INVALID');
      const viewer = await tw.admin('POST', '/v1/persons', { name: 'Vera', roles: ['viewer'] });
      assert.equal(viewer.status, 201);
      const key = viewer.body.apiKey as string;
      assert.equal((await tw.admin('GET', '/v1/agents', undefined, key)).status, 200);
      const forbidden = await tw.admin('POST', `/v1/agents/${agentId}/suspend`, {}, key);
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.error.code, 'AUTH_FORBIDDEN');
      // The key is shown once: it appears nowhere in later listings.
      const listing = JSON.stringify((await tw.admin('GET', '/v1/persons')).body);
      assert.ok(!listing.includes(key.split('.')[1]!));
    });

    it('answers unknown routes and ids with NOT_FOUND codes', async () => {
      assert.equal((await tw.admin('GET', '/v1/nothing-here')).body.error.code, 'NOT_FOUND');
      assert.equal((await tw.admin('GET', '/v1/agents/agt_000000000000000000000000')).body.error.code, 'AGENT_NOT_FOUND');
      assert.equal((await tw.admin('GET', '/v1/agents/..%2F..%2Fetc')).body.error.code, 'AGENT_NOT_FOUND');
      assert.equal((await tw.admin('GET', '/v1/tasks/tsk_000000000000000000000000')).body.error.code, 'TASK_NOT_FOUND');
      assert.equal((await tw.admin('GET', '/v1/tasks?limit=abc')).body.error.code, 'INVALID_INPUT');
    });

    it('refuses NUL characters in JSON and form bodies with INVALID_INPUT, not a store failure', async () => {
      const json = await post('/v1/persons', JSON.stringify({ name: 'nul\u0000name', roles: ['viewer'] }), 'application/json');
      assert.equal(json.status, 400);
      assert.equal(codeOf(json), 'INVALID_INPUT');
      const form = await post('/oauth/token', 'grant_type=client_credentials&purpose=a%00b&scope=x', 'application/x-www-form-urlencoded');
      assert.equal(form.status, 400);
      assert.equal(codeOf(form), 'INVALID_INPUT');
    });

    it('keeps serving after all of the above', async () => {
      const res = await fetch(`${tw.url}/healthz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ok' });
    });
  });
}
