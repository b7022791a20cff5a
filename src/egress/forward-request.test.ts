import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import { echo, get, resolveSecret, SECRETS, useUpstream } from '../../test/support/egress.js';
import { forwardHttp, type EgressRequest } from './forward.js';
import { HttpUpstreamSchema } from './upstream-config.js';
import { rejectsWith } from '../../test/support/rejects-with.js';

const server = useUpstream(echo);

const upstream = (patch: Partial<z.input<typeof HttpUpstreamSchema>> = {}) =>
  HttpUpstreamSchema.parse({ name: 'api', baseUrl: server().origin, allowPrivateNetwork: ['127.0.0.1/32'], ...patch });

const echoed = (body: Buffer): { method: string; url: string; headers: Record<string, string>; body: string } => JSON.parse(body.toString('utf8'));

describe('forwardHttp: what may be asked', () => {
  it('forwards an allowed request to the base URL and reports the checked address', async () => {
    const result = await forwardHttp(upstream({ baseUrl: `${server().origin}/api/v3` }), get('/repos/x', { query: 'page=2' }), { resolveSecret });
    assert.equal(result.status, 200);
    assert.equal(echoed(result.body).url, '/api/v3/repos/x?page=2');
    assert.equal(result.address, '127.0.0.1');
    assert.equal(result.bytesIn, result.body.byteLength);
    assert.equal(result.bytesOut, 0);
  });

  it('refuses a method the upstream does not allow, naming the allowed ones', async () => {
    await rejectsWith(forwardHttp(upstream({ methods: ['GET', 'HEAD'] }), get('/', { method: 'POST' }), { resolveSecret }), 'EGRESS_METHOD_NOT_ALLOWED', {
      allow: ['GET', 'HEAD'],
    });
    await rejectsWith(forwardHttp(upstream(), get('/', { method: 'get' }), { resolveSecret }), 'EGRESS_METHOD_NOT_ALLOWED');
    assert.equal(server().seen.length, 0);
  });

  const TRAVERSAL = ['/repos/../admin', '/repos/%2e%2e/admin', '/repos/%2E%2e/admin', '/repos/.%2e/admin', '/repos/%252e%252e/admin', '/repos%2f..%2fadmin', '/repos/x%5c..%5cadmin', '/repos\\..\\admin', '/repos/x%00', '/repos/\u0001'];
  for (const path of TRAVERSAL) {
    it(`refuses the path ${JSON.stringify(path)} before anything leaves`, async () => {
      await rejectsWith(forwardHttp(upstream({ pathPrefixes: ['/repos'] }), get(path), { resolveSecret }), 'EGRESS_PATH_NOT_ALLOWED');
      assert.equal(server().seen.length, 0);
    });
  }

  it('admits a prefix only on a segment boundary', async () => {
    const up = upstream({ pathPrefixes: ['/repos'] });
    assert.equal((await forwardHttp(up, get('/repos'), { resolveSecret })).status, 200);
    assert.equal((await forwardHttp(up, get('/repos/warden'), { resolveSecret })).status, 200);
    await rejectsWith(forwardHttp(up, get('/reposX'), { resolveSecret }), 'EGRESS_PATH_NOT_ALLOWED', { reason: 'prefix' });
    await rejectsWith(forwardHttp(up, get('/'), { resolveSecret }), 'EGRESS_PATH_NOT_ALLOWED', { reason: 'prefix' });
    assert.deepEqual(
      server().seen.map((s) => s.url),
      ['/repos', '/repos/warden'],
    );
  });

  it('cannot change the host through the path', async () => {
    const result = await forwardHttp(upstream(), get('//evil.test/x'), { resolveSecret });
    assert.equal(echoed(result.body).url, '/evil.test/x');
    assert.equal(echoed(result.body).headers.host, `127.0.0.1:${server().port}`);
  });
});

describe('forwardHttp: headers', () => {
  it('strips hop-by-hop fields, those Connection names, and the agent’s own credentials', async () => {
    const result = await forwardHttp(
      upstream(),
      get('/', {
        headers: {
          connection: 'keep-alive, X-Hop-Secret',
          'x-hop-secret': 'hop',
          'keep-alive': 'timeout=5',
          'proxy-authorization': 'Basic cHJveHk6cHc=',
          'proxy-connection': 'keep-alive',
          te: 'trailers',
          trailer: 'x-checksum',
          upgrade: 'websocket',
          authorization: 'DPoP agent-token',
          dpop: 'agent.proof.jws',
          cookie: 'session=agent',
          host: 'evil.test',
          forwarded: 'for=10.0.0.1;host=evil.test',
          'x-forwarded-for': '10.0.0.1',
          'x-forwarded-host': 'evil.test',
          'x-real-ip': '10.0.0.1',
          'accept-encoding': 'gzip, br',
          'x-request-id': 'req-1',
          accept: 'application/json',
        },
      }),
      { resolveSecret },
    );
    const seen = server().seen[0]!.headers;
    for (const gone of ['x-hop-secret', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'upgrade', 'authorization', 'dpop', 'cookie', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip']) {
      assert.equal(seen[gone], undefined, gone);
    }
    assert.equal(seen.host, `127.0.0.1:${server().port}`);
    assert.equal(seen['accept-encoding'], 'identity');
    assert.equal(seen['x-request-id'], 'req-1');
    assert.equal(seen.accept, 'application/json');
    assert.equal(seen.via, '1.1 warden');
    assert.equal(result.status, 200);
  });

  it('injects a header credential in its format, replacing the agent’s', async () => {
    const up = upstream({ credentials: [{ secret: 'api-token', header: 'Authorization', format: 'Bearer {value}' }] });
    const result = await forwardHttp(up, get('/', { headers: { Authorization: 'Bearer agent-guess' } }), { resolveSecret });
    assert.equal(server().seen[0]!.headers.authorization, `Bearer ${SECRETS['api-token']}`);
    assert.deepEqual([...result.injected], [SECRETS['api-token']]);
  });

  it('injects a query credential in place of any the agent sent, leaving the rest of the query as it was', async () => {
    const up = upstream({ credentials: [{ secret: 'maps-key', query: 'api_key' }] });
    const result = await forwardHttp(up, get('/geo', { query: 'q=a%20b&api_key=mine&x=1+2&api%5Fkey=again' }), { resolveSecret });
    const url = new URL(server().seen[0]!.url, 'http://x');
    assert.equal(url.search, `?q=a%20b&x=1+2&api_key=${encodeURIComponent(SECRETS['maps-key']!)}`);
    assert.deepEqual(url.searchParams.getAll('api_key'), [SECRETS['maps-key']]);
    assert.ok(result.injected.has(SECRETS['maps-key']!));
    assert.ok(result.injected.has(encodeURIComponent(SECRETS['maps-key']!)));
  });

  it('keeps the injected values out of a logged or serialized result', async () => {
    const up = upstream({ credentials: [{ secret: 'api-token', header: 'X-Api-Key' }] });
    const result = await forwardHttp(up, get('/'), { resolveSecret });
    const { inspect } = await import('node:util');
    assert.ok(!JSON.stringify({ ...result, body: undefined }).includes(SECRETS['api-token']!));
    assert.ok(!inspect({ ...result, body: undefined }).includes(SECRETS['api-token']!));
  });

  it('refuses header values that would split or cut the header', async () => {
    for (const value of ['a\r\nX-Evil: 1', 'a\nX-Evil: 1', 'a\u0000b', ['ok', 'b\rc']]) {
      await rejectsWith(forwardHttp(upstream(), get('/', { headers: { 'x-note': value } }), { resolveSecret }), 'INVALID_INPUT', { header: 'x-note' });
    }
    await rejectsWith(forwardHttp(upstream(), get('/', { headers: { 'x bad': 'v' } }), { resolveSecret }), 'INVALID_INPUT');
    await rejectsWith(forwardHttp(upstream(), get('/', { query: 'a=1\r\nHost: evil' }), { resolveSecret }), 'INVALID_INPUT', { reason: 'query' });
    assert.equal(server().seen.length, 0);
  });

  it('refuses a secret that would split the header, without revealing it', async () => {
    const up = upstream({ credentials: [{ secret: 'crlf-token', header: 'X-Api-Key' }] });
    const err = await rejectsWith(forwardHttp(up, get('/'), { resolveSecret }), 'EGRESS_CREDENTIAL_UNAVAILABLE', { secret: 'crlf-token' });
    assert.ok(!`${err.message}${JSON.stringify(err.details)}`.includes('X-Evil'));
    assert.equal(server().seen.length, 0);
  });

  it('reports a missing secret by name only', async () => {
    const up = upstream({ credentials: [{ secret: 'nope', header: 'X-Api-Key' }] });
    await rejectsWith(forwardHttp(up, get('/'), { resolveSecret }), 'EGRESS_CREDENTIAL_UNAVAILABLE', { secret: 'nope' });
  });
});

describe('forwardHttp: request body', () => {
  const post = (body: EgressRequest['body'], headers: EgressRequest['headers'] = {}): EgressRequest => ({ method: 'POST', path: '/', headers, body });
  const up = () => upstream({ methods: ['POST'], maxRequestBytes: 1000 });

  it('sends a body up to the limit with its own Content-Length', async () => {
    const body = Buffer.alloc(1000, 'a');
    const result = await forwardHttp(up(), post(Readable.from([body.subarray(0, 600), body.subarray(600)]), { 'transfer-encoding': 'chunked' }), { resolveSecret });
    assert.equal(result.bytesOut, 1000);
    assert.equal(server().seen[0]!.headers['content-length'], '1000');
    assert.equal(server().seen[0]!.headers['transfer-encoding'], undefined);
    assert.equal(server().seen[0]!.body.byteLength, 1000);
  });

  it('refuses a buffered body over the limit', async () => {
    await rejectsWith(forwardHttp(up(), post(Buffer.alloc(1001)), { resolveSecret }), 'PAYLOAD_TOO_LARGE', { limit: 1000 });
    assert.equal(server().seen.length, 0);
  });

  it('counts the bytes of a stream whose Content-Length lies', async () => {
    const stream = Readable.from([Buffer.alloc(500), Buffer.alloc(500), Buffer.alloc(500)]);
    await rejectsWith(forwardHttp(up(), post(stream, { 'content-length': '10' }), { resolveSecret }), 'PAYLOAD_TOO_LARGE');
    assert.equal(server().seen.length, 0);
    assert.equal(stream.destroyed, false, 'the agent’s stream stays open for the error answer');
  });

  it('counts the bytes of a chunked stream with no length at all', async () => {
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 100; i++) yield Buffer.alloc(64);
    }
    await rejectsWith(forwardHttp(up(), post(chunks(), { 'transfer-encoding': 'chunked' }), { resolveSecret }), 'PAYLOAD_TOO_LARGE');
    assert.equal(server().seen.length, 0);
  });

  it('refuses an honest Content-Length over the limit without reading the body', async () => {
    let read = false;
    const stream = new Readable({
      read() {
        read = true;
        this.push(null);
      },
    });
    await rejectsWith(forwardHttp(up(), post(stream, { 'content-length': '5000' }), { resolveSecret }), 'PAYLOAD_TOO_LARGE');
    assert.equal(read, false);
  });
});
