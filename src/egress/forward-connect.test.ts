import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import { resolveSecret, startUpstream, useUpstream } from '../../test/support/egress.js';
import { ConnectionPool } from './connection-pool.js';
import { DnsCache } from './dns-cache.js';
import { forwardHttp, type EgressRequest } from './forward.js';
import type { ResolvedAddress, Resolver } from './safe-lookup.js';
import { HttpUpstreamSchema } from './upstream-config.js';
import { rejectsWith } from '../../test/support/rejects-with.js';

const server = useUpstream();

const upstream = (patch: Partial<z.input<typeof HttpUpstreamSchema>> = {}) => HttpUpstreamSchema.parse({ name: 'api', baseUrl: server().origin, ...patch });
const get: EgressRequest = { method: 'GET', path: '/', headers: {} };

/** A resolver that gives the next answer on each call (the last one from then on). */
function sequence(...answers: (readonly string[])[]): Resolver & { calls: number } {
  const resolver = async (): Promise<readonly ResolvedAddress[]> => {
    const answer = answers[Math.min(resolver.calls, answers.length - 1)] ?? [];
    resolver.calls++;
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  resolver.calls = 0;
  return resolver;
}

/** A secret store that records whether it was asked. */
function watchedSecrets(): ((name: string) => Promise<string>) & { asked: boolean } {
  const fn = async (name: string): Promise<string> => {
    fn.asked = true;
    return resolveSecret(name);
  };
  fn.asked = false;
  return fn;
}

describe('forwardHttp: where it connects', () => {
  it('reaches a loopback upstream only through an explicit allowPrivateNetwork entry', async () => {
    await rejectsWith(forwardHttp(upstream(), get, { resolveSecret }), 'EGRESS_ADDRESS_BLOCKED', { reason: 'loopback' });
    assert.equal(server().seen.length, 0);
    const result = await forwardHttp(upstream({ allowPrivateNetwork: ['127.0.0.1/32'] }), get, { resolveSecret });
    assert.equal(result.status, 200);
  });

  const SPELLINGS = [
    (port: number) => `http://2130706433:${port}`,
    (port: number) => `http://0177.0.0.1:${port}`,
    (port: number) => `http://0x7f.0.0.1:${port}`,
    (port: number) => `http://0x7f000001:${port}`,
    (port: number) => `http://127.1:${port}`,
    (port: number) => `http://[::ffff:127.0.0.1]:${port}`,
  ];
  for (const spelling of SPELLINGS) {
    it(`checks ${spelling(0)} as the loopback address it is`, async () => {
      const secrets = watchedSecrets();
      await rejectsWith(forwardHttp(upstream({ baseUrl: spelling(server().port) }), get, { resolveSecret: secrets, resolver: sequence(['8.8.8.8']) }), 'EGRESS_ADDRESS_BLOCKED', {
        reason: 'loopback',
      });
      assert.equal(server().seen.length, 0);
      assert.equal(secrets.asked, false, 'no secret is read for a call that cannot go out');
    });
  }

  it('reaches the same address through a decimal spelling when it is allowed', async () => {
    const result = await forwardHttp(upstream({ baseUrl: `http://2130706433:${server().port}`, allowPrivateNetwork: ['127.0.0.1/32'] }), get, { resolveSecret });
    assert.equal(result.address, '127.0.0.1');
  });

  const NAMES: readonly (readonly [string, readonly string[], string])[] = [
    ['evil.test', ['127.0.0.1'], 'loopback'],
    ['metadata.test', ['169.254.169.254'], 'metadata'],
    ['alibaba.test', ['100.100.100.200'], 'metadata'],
    ['aws6.test', ['fd00:ec2::254'], 'metadata'],
    ['mapped.test', ['::ffff:169.254.169.254'], 'metadata'],
    ['nat64.test', ['64:ff9b::7f00:1'], 'loopback'],
    ['sixtofour.test', ['2002:c0a8:101::1'], 'private'],
    ['mixed.test', ['93.184.215.14', '10.0.0.5'], 'private'],
    ['mixed6.test', ['2606:4700::1', '::1'], 'loopback'],
  ];
  for (const [name, addresses, reason] of NAMES) {
    it(`refuses ${name} resolving to ${addresses.join(', ')} (${reason})`, async () => {
      await rejectsWith(forwardHttp(upstream({ baseUrl: `http://${name}:${server().port}` }), get, { resolveSecret, resolver: sequence(addresses) }), 'EGRESS_ADDRESS_BLOCKED', {
        reason,
      });
    });
  }

  it('does not open a metadata address to a broad allowPrivateNetwork range', async () => {
    const up = upstream({ baseUrl: 'http://metadata.test', allowPrivateNetwork: ['169.254.0.0/16'] });
    await rejectsWith(forwardHttp(up, get, { resolveSecret, resolver: sequence(['169.254.169.254']) }), 'EGRESS_ADDRESS_BLOCKED', { reason: 'metadata' });
  });

  it('connects to exactly the address it checked, not to a second answer of the name', async () => {
    // If anything resolved the name again, it would get 127.0.0.2, where nothing listens.
    const resolver = sequence(['127.0.0.1'], ['127.0.0.2']);
    const result = await forwardHttp(upstream({ baseUrl: `http://rebind.test:${server().port}`, allowPrivateNetwork: ['127.0.0.1/32'] }), get, { resolveSecret, resolver });
    assert.equal(result.status, 200);
    assert.equal(result.address, '127.0.0.1');
    assert.equal(resolver.calls, 1);
    assert.equal(server().seen[0]!.localAddress, '127.0.0.1');
    assert.equal(server().seen[0]!.headers.host, `rebind.test:${server().port}`, 'the Host header keeps the name');
  });

  it('checks again on every call, even with a warm keep-alive connection to the name', async () => {
    const pool = new ConnectionPool();
    try {
      const resolver = sequence(['127.0.0.1'], ['10.0.0.1']);
      const up = upstream({ baseUrl: `http://rebind.test:${server().port}`, allowPrivateNetwork: ['127.0.0.1/32'] });
      assert.equal((await forwardHttp(up, get, { resolveSecret, resolver, pool })).status, 200);
      await rejectsWith(forwardHttp(up, get, { resolveSecret, resolver, pool }), 'EGRESS_ADDRESS_BLOCKED', { reason: 'private' });
      assert.equal(server().seen.length, 1);
    } finally {
      await pool.close();
    }
  });

  it("with a cached resolver, resolves a name once per dnsCacheMs and still checks its addresses on every call", async () => {
    const pool = new ConnectionPool();
    try {
      // As HttpProxy gives each upstream its resolver: one cache, each upstream's own time.
      const dnsCache = new DnsCache();
      const resolver = sequence(['127.0.0.1'], ['127.0.0.1']);
      const cached = (u: { dnsCacheMs: number }) => dnsCache.resolver(resolver, u.dnsCacheMs);
      const up = upstream({ baseUrl: `http://cached.test:${server().port}`, allowPrivateNetwork: ['127.0.0.1/32'], dnsCacheMs: 60_000 });
      const before = server().seen.length;
      for (let i = 0; i < 3; i++) assert.equal((await forwardHttp(up, get, { resolveSecret, resolver: cached(up), pool })).status, 200);
      assert.equal(resolver.calls, 1);
      // The cached answer meets another upstream's policy afresh: refused there.
      const strict = upstream({ name: 'strict', baseUrl: `http://cached.test:${server().port}`, dnsCacheMs: 60_000 });
      await rejectsWith(forwardHttp(strict, get, { resolveSecret, resolver: cached(strict), pool }), 'EGRESS_ADDRESS_BLOCKED', { reason: 'loopback' });
      assert.equal(resolver.calls, 1);
      assert.equal(server().seen.length - before, 3);
      // dnsCacheMs 0: every call resolves.
      const fresh = upstream({ baseUrl: `http://cached.test:${server().port}`, allowPrivateNetwork: ['127.0.0.1/32'], dnsCacheMs: 0 });
      await forwardHttp(fresh, get, { resolveSecret, resolver: cached(fresh), pool });
      assert.equal(resolver.calls, 2);
    } finally {
      await pool.close();
    }
  });

  it('reports a name that does not resolve as UPSTREAM_UNAVAILABLE', async () => {
    const resolver: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    };
    await rejectsWith(forwardHttp(upstream({ baseUrl: 'http://nowhere.test' }), get, { resolveSecret, resolver }), 'UPSTREAM_UNAVAILABLE', { reason: 'dns' });
  });

  it('reports a refused connection as UPSTREAM_UNAVAILABLE', async () => {
    const closed = await startUpstream();
    await closed.close();
    await rejectsWith(forwardHttp(upstream({ baseUrl: closed.origin, allowPrivateNetwork: ['127.0.0.1/32'] }), get, { resolveSecret }), 'UPSTREAM_UNAVAILABLE', {
      reason: 'ECONNREFUSED',
    });
  });
});
