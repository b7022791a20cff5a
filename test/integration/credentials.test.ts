import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { createDpopProof, generateAgentKey } from '../../src/sdk/keys.js';
import { BACKENDS, nowSec, registerAgent, startTask, startWarden, tokenRequest, whoami, type TestWarden } from '../support/harness.js';

const b64u = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Re-signs a token's claims with Warden's own private key: only the altered claims differ. */
async function forgeWithWardenKey(tw: TestWarden, token: string, changes: Record<string, unknown>): Promise<string> {
  const dir = join(tw.dataDir, 'keys');
  const kid = decodeProtectedHeader(token).kid as string;
  const file = JSON.parse(await readFile(join(dir, `${kid}.jwk.json`), 'utf8'));
  const { createPrivateKey } = await import('node:crypto');
  const key = createPrivateKey({ key: file.privateJwk, format: 'jwk' });
  return new SignJWT({ ...decodeJwt(token), ...changes }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(key);
}

for (const backend of BACKENDS) {
  describe(`credentials on ${backend}`, () => {
    let tw: TestWarden;
    before(async () => {
      tw = await startWarden(backend);
    });
    after(async () => {
      await tw?.close();
    });

    it('issues a DPoP-bound task token that authenticates the agent', async () => {
      const agent = await registerAgent(tw);
      const { token, task, body } = await startTask(tw, agent);
      assert.equal(body.token_type, 'DPoP');
      assert.ok(body.expires_in > 0 && body.expires_in <= 900);
      const header = decodeProtectedHeader(token);
      assert.equal(header.typ, 'at+jwt');
      assert.equal(header.alg, 'EdDSA');
      const claims = decodeJwt(token);
      assert.equal(claims.sub, agent.id);
      assert.equal(claims.task, task);
      assert.equal(claims.scope, 'github.list_issues');
      assert.deepEqual(claims.cnf, { jkt: agent.key.jkt });
      assert.equal(claims.iss, tw.warden.context.urls.issuer);
      const res = await whoami(tw, token, agent.key);
      assert.equal(res.status, 200);
      assert.equal(res.body.agent, agent.id);
      assert.equal(res.body.task, task);
    });

    it('rejects a stolen access token used without the agent key', async () => {
      const agent = await registerAgent(tw);
      const { token } = await startTask(tw, agent);
      const thief = await generateAgentKey();
      const withOwnKey = await whoami(tw, token, thief);
      assert.equal(withOwnKey.status, 401);
      assert.equal(withOwnKey.body.error.code, 'DPOP_KEY_MISMATCH');
      const noProof = await whoami(tw, token, thief, { proof: null });
      assert.equal(noProof.body.error.code, 'DPOP_MISSING');
      const asBearer = await whoami(tw, token, thief, { scheme: 'Bearer', proof: null });
      assert.equal(asBearer.body.error.code, 'CRED_NOT_DPOP_BOUND');
      assert.match(asBearer.headers.get('www-authenticate') ?? '', /^DPoP /);
    });

    it('rejects a proof signed by the agent\'s other registered key', async () => {
      const agent = await registerAgent(tw);
      const second = await generateAgentKey('EdDSA');
      assert.equal((await tw.admin('POST', `/v1/agents/${agent.id}/keys`, { jwk: second.publicJwk })).status, 201);
      const { token } = await startTask(tw, agent);
      const res = await whoami(tw, token, second);
      assert.equal(res.body.error.code, 'DPOP_KEY_MISMATCH');
    });

    it('rejects a DPoP proof whose jti was already seen', async () => {
      const agent = await registerAgent(tw);
      const { token } = await startTask(tw, agent);
      const proof = await createDpopProof(agent.key, { method: 'GET', url: `${tw.warden.context.urls.base}/agent/v1/whoami`, accessToken: token, nowSec: nowSec(tw) });
      assert.equal((await whoami(tw, token, agent.key, { proof })).status, 200);
      const replay = await whoami(tw, token, agent.key, { proof });
      assert.equal(replay.status, 401);
      assert.equal(replay.body.error.code, 'DPOP_REPLAY');
    });

    it('rejects a proof made for another method or another URL', async () => {
      const agent = await registerAgent(tw);
      const { token } = await startTask(tw, agent);
      const base = tw.warden.context.urls.base;
      const forPost = await createDpopProof(agent.key, { method: 'POST', url: `${base}/agent/v1/whoami`, accessToken: token, nowSec: nowSec(tw) });
      assert.equal((await whoami(tw, token, agent.key, { proof: forPost })).body.error.code, 'DPOP_METHOD_MISMATCH');
      const forOther = await createDpopProof(agent.key, { method: 'GET', url: `${base}/agent/v1/other`, accessToken: token, nowSec: nowSec(tw) });
      assert.equal((await whoami(tw, token, agent.key, { proof: forOther })).body.error.code, 'DPOP_URL_MISMATCH');
      const otherHost = await createDpopProof(agent.key, { method: 'GET', url: 'http://evil.example/agent/v1/whoami', accessToken: token, nowSec: nowSec(tw) });
      assert.equal((await whoami(tw, token, agent.key, { proof: otherHost })).body.error.code, 'DPOP_URL_MISMATCH');
    });

    it('rejects a proof bound to another access token', async () => {
      const agent = await registerAgent(tw);
      const first = await startTask(tw, agent);
      const second = await startTask(tw, agent);
      const proof = await createDpopProof(agent.key, { method: 'GET', url: `${tw.warden.context.urls.base}/agent/v1/whoami`, accessToken: first.token, nowSec: nowSec(tw) });
      assert.equal((await whoami(tw, second.token, agent.key, { proof })).body.error.code, 'DPOP_ATH_MISMATCH');
    });

    it('rejects an unsigned token (alg none)', async () => {
      const agent = await registerAgent(tw);
      const { token } = await startTask(tw, agent);
      const unsigned = `${b64u({ alg: 'none', typ: 'at+jwt' })}.${b64u(decodeJwt(token))}.`;
      const res = await whoami(tw, unsigned, agent.key);
      assert.equal(res.status, 401);
      assert.ok(['CRED_UNSUPPORTED_ALG', 'CRED_MALFORMED'].includes(res.body.error.code));
      const withSig = `${b64u({ alg: 'none', typ: 'at+jwt' })}.${b64u(decodeJwt(token))}.${b64u('x')}`;
      assert.equal((await whoami(tw, withSig, agent.key)).body.error.code, 'CRED_UNSUPPORTED_ALG');
    });

    it('rejects a token signed HS256 with Warden\'s public key as the secret', async () => {
      const agent = await registerAgent(tw);
      const { token } = await startTask(tw, agent);
      const jwks = (await (await fetch(`${tw.url}/.well-known/jwks.json`)).json()) as { keys: { x: string; kid: string }[] };
      const pub = jwks.keys[0]!;
      const input = `${b64u({ alg: 'HS256', typ: 'at+jwt', kid: pub.kid })}.${b64u(decodeJwt(token))}`;
      for (const secret of [Buffer.from(pub.x, 'base64url'), Buffer.from(JSON.stringify(pub))]) {
        const forged = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
        const res = await whoami(tw, forged, agent.key);
        assert.equal(res.body.error.code, 'CRED_UNSUPPORTED_ALG');
      }
    });

    it('rejects a token with a changed claim and the original signature', async () => {
      const agent = await registerAgent(tw);
      const { token } = await startTask(tw, agent);
      const [h, , s] = token.split('.');
      const tampered = `${h}.${b64u({ ...decodeJwt(token), scope: 'github.* jira.read_issue' })}.${s}`;
      assert.equal((await whoami(tw, tampered, agent.key)).body.error.code, 'CRED_INVALID');
    });

    it('rejects a token whose base64url is not canonical', async () => {
      const agent = await registerAgent(tw);
      const { token } = await startTask(tw, agent);
      const padded = token.replace(/\.([^.]+)$/, '.$1=');
      assert.equal((await whoami(tw, padded, agent.key)).body.error.code, 'CRED_MALFORMED');
    });

    it('rejects an expired token', async () => {
      const agent = await registerAgent(tw);
      const { token } = await startTask(tw, agent);
      tw.clock.advance(16 * 60 * 1000);
      try {
        const res = await whoami(tw, token, agent.key);
        assert.equal(res.status, 401);
        assert.equal(res.body.error.code, 'CRED_EXPIRED');
      } finally {
        tw.clock.advance(-16 * 60 * 1000);
      }
    });

    it('rejects a token from another issuer or for another audience', async () => {
      const agent = await registerAgent(tw);
      const { token } = await startTask(tw, agent);
      const otherIss = await forgeWithWardenKey(tw, token, { iss: 'https://other-warden.example' });
      assert.equal((await whoami(tw, otherIss, agent.key)).body.error.code, 'CRED_WRONG_ISSUER');
      const otherAud = await forgeWithWardenKey(tw, token, { aud: 'https://payments.example' });
      assert.equal((await whoami(tw, otherAud, agent.key)).body.error.code, 'CRED_WRONG_AUDIENCE');
    });

    it('rejects a token signed by another Warden', async () => {
      const other = await startWarden('sqlite');
      try {
        const agent = await registerAgent(other);
        const { token } = await startTask(other, agent);
        const res = await whoami(tw, token, agent.key);
        assert.equal(res.body.error.code, 'CRED_INVALID');
      } finally {
        await other.close();
      }
    });

    it('rejects tokens of a revoked task on the next request, and refuses to refresh it', async () => {
      const agent = await registerAgent(tw);
      const { token, task } = await startTask(tw, agent);
      assert.equal((await whoami(tw, token, agent.key)).status, 200);
      const revoke = await tw.admin('POST', `/v1/tasks/${task}/revoke`, { reason: 'incident 7' });
      assert.equal(revoke.status, 200);
      assert.equal(revoke.body.task.status, 'revoked');
      const res = await whoami(tw, token, agent.key);
      assert.equal(res.body.error.code, 'CRED_REVOKED');
      assert.equal(res.body.error.details.revoked, 'task');
      const refresh = await tokenRequest(tw, agent, { task });
      assert.equal(refresh.status, 401);
      assert.equal(refresh.body.warden_code, 'TASK_ENDED');
    });

    it('rejects tokens of a suspended agent on the next request, and again accepts them once resumed', async () => {
      const agent = await registerAgent(tw);
      const { token } = await startTask(tw, agent);
      assert.equal((await tw.admin('POST', `/v1/agents/${agent.id}/suspend`, { reason: 'anomaly' })).status, 200);
      const res = await whoami(tw, token, agent.key);
      assert.equal(res.body.error.code, 'CRED_REVOKED');
      assert.equal(res.body.error.details.revoked, 'agent');
      const newTask = await tokenRequest(tw, agent, { purpose: 'x', scope: 'github.list_issues' });
      assert.equal(newTask.body.warden_code, 'AGENT_SUSPENDED');
      assert.equal((await tw.admin('POST', `/v1/agents/${agent.id}/resume`, {})).status, 200);
      assert.equal((await whoami(tw, token, agent.key)).status, 200);
    });

    it('rejects tokens of a retired agent and keeps the agent for history', async () => {
      const agent = await registerAgent(tw);
      const { token } = await startTask(tw, agent);
      assert.equal((await tw.admin('POST', `/v1/agents/${agent.id}/retire`, {})).status, 200);
      assert.equal((await whoami(tw, token, agent.key)).body.error.details.revoked, 'agent');
      const shown = await tw.admin('GET', `/v1/agents/${agent.id}`);
      assert.equal(shown.status, 200);
      assert.equal(shown.body.agent.status, 'retired');
      assert.equal((await tw.admin('POST', `/v1/agents/${agent.id}/resume`, {})).body.error.code, 'AGENT_RETIRED');
    });

    it('rejects tokens bound to a retired agent key on the next request, while the new key works', async () => {
      const agent = await registerAgent(tw);
      const { token } = await startTask(tw, agent);
      const next = await generateAgentKey();
      assert.equal((await tw.admin('POST', `/v1/agents/${agent.id}/keys`, { jwk: next.publicJwk })).status, 201);
      // Both keys live during the overlap.
      assert.equal((await whoami(tw, token, agent.key)).status, 200);
      const third = await generateAgentKey();
      assert.equal((await tw.admin('POST', `/v1/agents/${agent.id}/keys`, { jwk: third.publicJwk })).body.error.code, 'AGENT_KEY_LIMIT');
      assert.equal((await tw.admin('POST', `/v1/agents/${agent.id}/keys/${agent.key.jkt}/retire`, {})).status, 200);
      const res = await whoami(tw, token, agent.key);
      assert.equal(res.body.error.code, 'CRED_REVOKED');
      assert.equal(res.body.error.details.revoked, 'key');
      const rotated = { id: agent.id, key: next };
      const fresh = await startTask(tw, rotated);
      assert.equal((await whoami(tw, fresh.token, next)).status, 200);
      const old = await tokenRequest(tw, agent, { purpose: 'x', scope: 'github.list_issues' });
      assert.equal(old.body.warden_code, 'CLIENT_ASSERTION_INVALID');
      assert.equal((await tw.admin('POST', `/v1/agents/${agent.id}/keys/${next.jkt}/retire`, {})).body.error.code, 'AGENT_KEY_LAST');
    });

    it('rejects one revoked token while the task\'s next token still works', async () => {
      const agent = await registerAgent(tw);
      const { token, task } = await startTask(tw, agent);
      const jti = decodeJwt(token).jti as string;
      assert.equal((await tw.admin('POST', '/v1/tokens/revoke', { jti })).status, 200);
      assert.equal((await whoami(tw, token, agent.key)).body.error.details.revoked, 'token');
      const refresh = await tokenRequest(tw, agent, { task });
      assert.equal(refresh.status, 200);
      assert.equal((await whoami(tw, refresh.body.access_token, agent.key)).status, 200);
    });

    it('ends a task when the agent completes it', async () => {
      const agent = await registerAgent(tw);
      const { token, task } = await startTask(tw, agent);
      const done = await whoami(tw, token, agent.key, { method: 'POST', path: '/agent/v1/task/complete' });
      assert.equal(done.status, 200);
      assert.equal(done.body.status, 'completed');
      assert.equal((await whoami(tw, token, agent.key)).body.error.code, 'CRED_REVOKED');
      assert.equal((await tw.admin('GET', `/v1/tasks/${task}`)).body.task.status, 'completed');
    });

    it('rejects a replayed client assertion', async () => {
      const agent = await registerAgent(tw);
      const { createClientAssertion } = await import('../../src/sdk/keys.js');
      const assertion = await createClientAssertion(agent.key, { agentId: agent.id, audience: tw.warden.context.urls.tokenEndpoint, nowSec: nowSec(tw) });
      const params = { purpose: 'x', scope: 'github.list_issues' };
      assert.equal((await tokenRequest(tw, agent, params, { assertion })).status, 200);
      const replay = await tokenRequest(tw, agent, params, { assertion });
      assert.equal(replay.status, 401);
      assert.equal(replay.body.error, 'invalid_client');
      assert.equal(replay.body.warden_code, 'CLIENT_ASSERTION_REPLAY');
    });

    it('rejects a client assertion signed by a key the agent does not have', async () => {
      const agent = await registerAgent(tw);
      const stranger = await generateAgentKey();
      const res = await tokenRequest(tw, agent, { purpose: 'x', scope: 'github.list_issues' }, { assertionKey: stranger });
      assert.equal(res.body.warden_code, 'CLIENT_ASSERTION_INVALID');
    });

    it('rejects a long-lived client assertion', async () => {
      const agent = await registerAgent(tw);
      const { createClientAssertion } = await import('../../src/sdk/keys.js');
      const assertion = await createClientAssertion(agent.key, { agentId: agent.id, audience: tw.warden.context.urls.tokenEndpoint, nowSec: nowSec(tw), lifetimeSec: 24 * 3600 });
      const res = await tokenRequest(tw, agent, { purpose: 'x', scope: 'github.list_issues' }, { assertion });
      assert.equal(res.body.warden_code, 'CLIENT_ASSERTION_INVALID');
    });

    it('refuses a token request whose DPoP key is not one of the agent\'s keys', async () => {
      const agent = await registerAgent(tw);
      const res = await tokenRequest(tw, agent, { purpose: 'x', scope: 'github.list_issues' }, { dpopKey: await generateAgentKey() });
      assert.equal(res.status, 401);
      assert.equal(res.body.warden_code, 'DPOP_KEY_MISMATCH');
      assert.equal((await tokenRequest(tw, agent, { purpose: 'x', scope: 'github.list_issues' }, { dpop: null })).body.warden_code, 'DPOP_MISSING');
    });

    it('refuses capabilities outside the agent profile', async () => {
      const agent = await registerAgent(tw);
      const res = await tokenRequest(tw, agent, { purpose: 'x', scope: 'github.list_issues payments.transfer' });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_scope');
      assert.equal(res.body.warden_code, 'SCOPE_EXCEEDED');
      assert.deepEqual(res.body.details.outside, ['payments.transfer']);
      const wider = await tokenRequest(tw, agent, { purpose: 'x', scope: '**' });
      assert.equal(wider.body.warden_code, 'SCOPE_EXCEEDED');
    });

    it('refuses a task lifetime beyond the agent cap', async () => {
      const agent = await registerAgent(tw, { maxTaskLifetimeSec: 600 });
      const res = await tokenRequest(tw, agent, { purpose: 'x', scope: 'github.list_issues', task_lifetime: '601' });
      assert.equal(res.body.warden_code, 'LIFETIME_EXCEEDED');
      const ok = await tokenRequest(tw, agent, { purpose: 'x', scope: 'github.list_issues', task_lifetime: '300' });
      assert.equal(ok.status, 200);
      // The token never outlives its task.
      assert.ok(ok.body.expires_in <= 300);
    });

    it('refuses to register an agent of the unacceptable risk category', async () => {
      const key = await generateAgentKey();
      const res = await tw.admin('POST', '/v1/agents', {
        name: 'social-scoring',
        owner: 'mallory@example.com',
        purpose: 'rank citizens',
        riskCategory: 'unacceptable',
        capabilities: ['crm.*'],
        publicKeys: [key.publicJwk],
      });
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'AGENT_RISK_PROHIBITED');
      assert.equal((await tw.admin('GET', '/v1/agents/social-scoring')).body.error.code, 'AGENT_NOT_FOUND');
    });

    it('refuses to register a private key', async () => {
      const { generateKeyPairSync } = await import('node:crypto');
      const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
      const res = await tw.admin('POST', '/v1/agents', {
        name: 'leaky', owner: 'a', purpose: 'b', riskCategory: 'minimal', capabilities: ['x.y'], publicKeys: [jwk],
      });
      assert.equal(res.body.error.code, 'AGENT_KEY_INVALID');
      assert.equal(res.body.error.details.reason, 'private_key');
    });

    it('acts on behalf of a person proven by their API key', async () => {
      const person = await tw.admin('POST', '/v1/persons', { name: 'Bob', email: 'bob@example.com', roles: ['viewer'] });
      assert.equal(person.status, 201);
      const agent = await registerAgent(tw);
      const res = await tokenRequest(tw, agent, {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: person.body.apiKey,
        subject_token_type: 'urn:warden:params:oauth:token-type:api-key',
        purpose: 'answer Bob',
        scope: 'jira.read_issue',
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
      assert.deepEqual(decodeJwt(res.body.access_token).act, { sub: person.body.person.id, iss: 'warden' });
      const me = await whoami(tw, res.body.access_token, agent.key);
      assert.equal(me.body.onBehalfOf.sub, person.body.person.id);
      await tw.admin('POST', `/v1/tasks/${res.body.task}/revoke`, {});
      // The person stands in every record of the task: its grant, its tokens, its end.
      const events = (await tw.admin('GET', '/v1/events?limit=10000')).body.events as { type: string; subject: string; data: any }[];
      const ofTask = events.filter((e) => e.subject === res.body.task || e.data.task === res.body.task);
      assert.deepEqual(ofTask.map((e) => e.type), ['policy.decide', 'task.grant', 'credential.issue', 'task.revoke']);
      for (const e of ofTask) assert.equal((e.data.onBehalfOf ?? e.data.act ?? e.data.person).sub, person.body.person.id, e.type);
      const bad = await tokenRequest(tw, agent, {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: `${person.body.apiKey.slice(0, -2)}xx`,
        subject_token_type: 'urn:warden:params:oauth:token-type:api-key',
        purpose: 'x',
        scope: 'jira.read_issue',
      });
      assert.equal(bad.body.error, 'invalid_grant');
      assert.equal(bad.body.warden_code, 'SUBJECT_TOKEN_INVALID');
    });

    it('keeps verifying tokens of the previous signing key after a rotation', async () => {
      const agent = await registerAgent(tw);
      const before = await startTask(tw, agent);
      const rotate = await tw.admin('POST', '/v1/signing-keys/rotate', {});
      assert.equal(rotate.status, 200);
      const after = await startTask(tw, agent);
      assert.notEqual(decodeProtectedHeader(after.token).kid, decodeProtectedHeader(before.token).kid);
      assert.equal(decodeProtectedHeader(after.token).kid, rotate.body.active);
      assert.equal((await whoami(tw, before.token, agent.key)).status, 200);
      assert.equal((await whoami(tw, after.token, agent.key)).status, 200);
      const jwks = (await (await fetch(`${tw.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
      const kids = jwks.keys.map((k) => k.kid);
      assert.ok(kids.includes(rotate.body.active) && kids.includes(rotate.body.previous));
      const files = await readdir(join(tw.dataDir, 'keys'));
      assert.ok(files.includes(`${rotate.body.active}.jwk.json`));
    });

    it('publishes RFC 8414 metadata with the DPoP algorithms', async () => {
      const meta = (await (await fetch(`${tw.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      assert.equal(meta.issuer, tw.warden.context.urls.issuer);
      assert.equal(meta.token_endpoint, `${tw.warden.context.urls.base}/oauth/token`);
      assert.deepEqual(meta.dpop_signing_alg_values_supported, ['EdDSA', 'ES256']);
      assert.deepEqual(meta.token_endpoint_auth_methods_supported, ['private_key_jwt']);
    });

    it('records every identity event in order', async () => {
      const agent = await registerAgent(tw);
      const { task } = await startTask(tw, agent);
      await tw.admin('POST', `/v1/tasks/${task}/revoke`, {});
      const events = (await tw.admin('GET', '/v1/events?limit=10000')).body.events as { seq: number; type: string; subject: string }[];
      assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i));
      const mine = events.filter((e) => e.subject === agent.id || e.subject === task).map((e) => e.type);
      assert.deepEqual(mine, ['agent.register', 'policy.decide', 'task.grant', 'task.revoke']);
      assert.ok(events.some((e) => e.type === 'credential.issue'));
    });
  });
}
