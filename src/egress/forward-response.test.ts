import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import { echo, get, resolveSecret, SECRETS, useUpstream } from '../../test/support/egress.js';
import { ManualClock } from '../util/clock.js';
import { ConnectionPool } from './connection-pool.js';
import { forwardHttp } from './forward.js';
import { HttpUpstreamSchema } from './upstream-config.js';
import { rejectsWith } from '../../test/support/rejects-with.js';

const server = useUpstream(echo);

const upstream = (patch: Partial<z.input<typeof HttpUpstreamSchema>> = {}) =>
  HttpUpstreamSchema.parse({ name: 'api', baseUrl: server().origin, allowPrivateNetwork: ['127.0.0.1/32'], ...patch });

describe('forwardHttp: response', () => {
  it('returns the status, the end-to-end headers and the whole body', async () => {
    server().handle((_req, res) => {
      res.writeHead(201, [
        ['Content-Type', 'text/plain'],
        ['Connection', 'X-Hop'],
        ['X-Hop', 'gone'],
        ['Keep-Alive', 'timeout=5'],
        ['Proxy-Authenticate', 'Basic'],
        ['Set-Cookie', 'session=upstream'],
        ['Alt-Svc', 'h2="evil.test:443"'],
        ['X-Kept', 'yes'],
      ]);
      res.end('created');
    });
    const clock = new ManualClock();
    const result = await forwardHttp(upstream(), get('/'), { resolveSecret, clock });
    assert.equal(result.status, 201);
    assert.equal(result.body.toString(), 'created');
    assert.equal(result.headers['x-kept'], 'yes');
    assert.equal(result.headers['content-type'], 'text/plain');
    for (const gone of ['connection', 'x-hop', 'keep-alive', 'proxy-authenticate', 'set-cookie', 'alt-svc', 'content-length', 'transfer-encoding']) {
      assert.equal(result.headers[gone], undefined, gone);
    }
    assert.equal(result.latencyMs, 0, 'latency is measured on the injected clock');
  });

  it('refuses a response larger than maxResponseBytes, declared or not', async () => {
    server().handle((_req, res) => res.end(Buffer.alloc(101)));
    await rejectsWith(forwardHttp(upstream({ maxResponseBytes: 100 }), get('/'), { resolveSecret }), 'UPSTREAM_RESPONSE_TOO_LARGE', { limit: 100 });
    server().handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked: no length to trust
      for (let i = 0; i < 50; i++) res.write(Buffer.alloc(10));
      res.end();
    });
    await rejectsWith(forwardHttp(upstream({ maxResponseBytes: 100 }), get('/'), { resolveSecret }), 'UPSTREAM_RESPONSE_TOO_LARGE');
    server().handle((_req, res) => res.end(Buffer.alloc(100)));
    assert.equal((await forwardHttp(upstream({ maxResponseBytes: 100 }), get('/'), { resolveSecret })).bytesIn, 100);
  });

  it('gives up with UPSTREAM_TIMEOUT when the upstream does not answer in time', async () => {
    server().handle(() => {});
    const started = Date.now();
    await rejectsWith(forwardHttp(upstream({ timeoutMs: 200 }), get('/'), { resolveSecret }), 'UPSTREAM_TIMEOUT', { timeoutMs: 200, phase: 'upstream' });
    assert.ok(Date.now() - started < 2000);
  });

  it('gives up with UPSTREAM_TIMEOUT when the body stalls after the headers', async () => {
    server().handle((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });
    await rejectsWith(forwardHttp(upstream({ timeoutMs: 200 }), get('/'), { resolveSecret }), 'UPSTREAM_TIMEOUT', { phase: 'response' });
  });

  it('reports an upstream that closes the connection mid-response as UPSTREAM_UNAVAILABLE', async () => {
    server().handle((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('only a part', () => res.socket?.destroy());
    });
    await rejectsWith(forwardHttp(upstream(), get('/'), { resolveSecret }), 'UPSTREAM_UNAVAILABLE', { phase: 'response' });
  });

  it('reports an upstream that closes the connection before answering as UPSTREAM_UNAVAILABLE', async () => {
    server().handle((req) => req.socket.destroy());
    await rejectsWith(forwardHttp(upstream(), get('/'), { resolveSecret }), 'UPSTREAM_UNAVAILABLE');
  });

  it('stops when the agent goes away', async () => {
    server().handle(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await rejectsWith(forwardHttp(upstream(), get('/', { signal: controller.signal }), { resolveSecret }), 'UPSTREAM_UNAVAILABLE', { reason: 'cancelled' });
  });

  it('reuses a pooled connection for calls to the same checked address', async () => {
    const pool = new ConnectionPool();
    try {
      await forwardHttp(upstream(), get('/a'), { resolveSecret, pool });
      // undici frees the connection a turn after the body ends; a call in the same turn would open another.
      await new Promise(setImmediate);
      await forwardHttp(upstream(), get('/b'), { resolveSecret, pool });
      assert.equal(server().seen.length, 2);
      assert.equal(server().seen[0]!.remotePort, server().seen[1]!.remotePort);
    } finally {
      await pool.close();
    }
  });
});

describe('forwardHttp: redirects', () => {
  const redirectTo = (location: string, status = 302) =>
    server().handle((_req, res) => {
      res.writeHead(status, { location });
      res.end('moved');
    });
  const up = (patch: Partial<z.input<typeof HttpUpstreamSchema>> = {}) => upstream({ pathPrefixes: ['/repos'], ...patch });

  it('rewrites a redirect within the upstream to the agent’s proxy path, and does not follow it', async () => {
    redirectTo('/repos/b?page=2');
    const result = await forwardHttp(up(), get('/repos/a'), { resolveSecret });
    assert.equal(result.status, 302);
    assert.equal(result.headers.location, '/proxy/api/repos/b?page=2');
    assert.equal(server().seen.length, 1);
  });

  it('rewrites an absolute same-origin redirect, resolving relative paths and dropping injected parameters', async () => {
    redirectTo(`${server().origin}/api/repos/c?x=1&key=${encodeURIComponent(SECRETS['maps-key']!)}`, 301);
    const upWithBase = up({ baseUrl: `${server().origin}/api`, credentials: [{ secret: 'maps-key', query: 'key' }] });
    let result = await forwardHttp(upWithBase, get('/repos/a'), { resolveSecret, proxyBase: 'https://warden.example/proxy/api/' });
    assert.equal(result.headers.location, 'https://warden.example/proxy/api/repos/c?x=1');
    redirectTo('d', 307);
    result = await forwardHttp(upWithBase, get('/repos/a/b'), { resolveSecret });
    assert.equal(result.headers.location, '/proxy/api/repos/a/d');
  });

  const OFF_UPSTREAM: readonly (readonly [string, () => string, string])[] = [
    ['another host', () => 'https://evil.test/', 'other-origin'],
    ['another port on loopback', () => 'http://127.0.0.1:1/', 'other-origin'],
    ['localhost by name', () => `http://localhost:${server().port}/repos/x`, 'other-origin'],
    ['the metadata service', () => 'http://169.254.169.254/latest/meta-data/', 'other-origin'],
    ['https on the same host', () => `https://127.0.0.1:${server().port}/repos/x`, 'other-origin'],
    ['user info', () => `http://user:pw@127.0.0.1:${server().port}/repos/x`, 'other-origin'],
    ['a path outside the prefixes', () => '/admin', 'path-not-allowed'],
    ['traversal out of the prefix', () => '/repos/%2e%2e/admin', 'path-not-allowed'],
    ['a protocol-relative host', () => '//evil.test/repos/x', 'other-origin'],
  ];
  for (const [what, location, reason] of OFF_UPSTREAM) {
    it(`refuses a redirect to ${what}`, async () => {
      redirectTo(location());
      await rejectsWith(forwardHttp(up(), get('/repos/a'), { resolveSecret }), 'EGRESS_REDIRECT_BLOCKED', { status: 302, reason });
      assert.equal(server().seen.length, 1, 'the redirect is not followed');
    });
  }

  it('refuses a redirect out of the base path', async () => {
    redirectTo('/other/repos/x');
    await rejectsWith(forwardHttp(up({ baseUrl: `${server().origin}/api` }), get('/repos/a'), { resolveSecret }), 'EGRESS_REDIRECT_BLOCKED', { reason: 'outside-base-path' });
  });

  it('shows a 201 Location within the upstream by its proxy path, and passes any other as sent', async () => {
    server().handle((_req, res) => {
      res.writeHead(201, { location: `${server().origin}/repos/new` });
      res.end();
    });
    assert.equal((await forwardHttp(up(), get('/repos'), { resolveSecret })).headers.location, '/proxy/api/repos/new');
    server().handle((_req, res) => {
      res.writeHead(201, { location: 'https://cdn.example/objects/1' });
      res.end();
    });
    assert.equal((await forwardHttp(up(), get('/repos'), { resolveSecret })).headers.location, 'https://cdn.example/objects/1');
  });

  it('passes a 304 through untouched', async () => {
    server().handle((_req, res) => {
      res.writeHead(304, { etag: '"v1"' });
      res.end();
    });
    const result = await forwardHttp(up(), get('/repos/a'), { resolveSecret });
    assert.equal(result.status, 304);
    assert.equal(result.headers.etag, '"v1"');
  });
});
