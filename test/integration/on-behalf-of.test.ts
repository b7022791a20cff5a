import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT, decodeJwt } from 'jose';
import { BACKENDS, registerAgent, startWarden, tokenRequest, whoami, type TestWarden } from '../support/harness.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';

/** A real OIDC issuer on 127.0.0.1: discovery document and JWKS over HTTP. */
async function startIssuer(): Promise<{ issuer: string; key: KeyObject; kid: string; server: Server }> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'test-key-1';
  const server = createServer((req, res) => {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    if (req.url === '/jwks') return res.end(JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] }));
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, key: privateKey, kid, server };
}

for (const backend of BACKENDS) {
  describe(`tasks on behalf of an OIDC-proven person on ${backend}`, () => {
    let tw: TestWarden;
    let idp: Awaited<ReturnType<typeof startIssuer>>;
    before(async () => {
      idp = await startIssuer();
      tw = await startWarden(backend, { config: `oidc:\n  issuers:\n    - issuer: ${idp.issuer}\n      audience: warden\n` });
    });
    after(async () => {
      await tw?.close();
      idp?.server.close();
    });

    const idToken = (claims: Record<string, unknown>, opts: { key?: KeyObject; iss?: string; exp?: number } = {}) =>
      new SignJWT({ email: 'carol@example.com', name: 'Carol', ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: idp.kid })
        .setIssuer(opts.iss ?? idp.issuer)
        .setAudience('warden')
        .setSubject('carol-123')
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 300)
        .sign(opts.key ?? idp.key);

    const exchange = async (subjectToken: string) => {
      const agent = await registerAgent(tw);
      const res = await tokenRequest(tw, agent, {
        grant_type: EXCHANGE,
        subject_token: subjectToken,
        subject_token_type: ID_TOKEN,
        purpose: 'summarise Carol\'s open tickets',
        scope: 'jira.read_issue',
      });
      return { agent, res };
    };

    it('puts the person of a valid ID token into act and into the task', async () => {
      const { agent, res } = await exchange(await idToken({}));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(decodeJwt(res.body.access_token).act, { sub: 'carol-123', iss: idp.issuer });
      const task = (await tw.admin('GET', `/v1/tasks/${res.body.task}`)).body.task;
      assert.equal(task.onBehalfOf.sub, 'carol-123');
      assert.equal(task.onBehalfOf.email, 'carol@example.com');
      assert.equal((await whoami(tw, res.body.access_token, agent.key)).body.onBehalfOf.iss, idp.issuer);
    });

    it('refuses an ID token signed by another key', async () => {
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const { res } = await exchange(await idToken({}, { key: other }));
      assert.equal(res.body.warden_code, 'SUBJECT_TOKEN_INVALID');
    });

    it('refuses an ID token from an issuer not in the config', async () => {
      const { res } = await exchange(await idToken({}, { iss: 'https://accounts.evil.example' }));
      assert.equal(res.body.warden_code, 'SUBJECT_TOKEN_INVALID');
    });

    it('refuses an expired ID token', async () => {
      const { res } = await exchange(await idToken({}, { exp: Math.floor(Date.now() / 1000) - 3600 }));
      assert.equal(res.body.warden_code, 'SUBJECT_TOKEN_INVALID');
    });

    it('refuses an unknown subject token type', async () => {
      const agent = await registerAgent(tw);
      const res = await tokenRequest(tw, agent, {
        grant_type: EXCHANGE,
        subject_token: 'whatever',
        subject_token_type: 'urn:ietf:params:oauth:token-type:saml2',
        purpose: 'x',
        scope: 'jira.read_issue',
      });
      assert.equal(res.body.warden_code, 'SUBJECT_TOKEN_INVALID');
    });
  });
}
