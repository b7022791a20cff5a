import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WardenError } from '../errors/warden-error.js';
import { findHttpUpstream, HttpUpstreamSchema, HttpUpstreamsSchema } from './upstream-config.js';

const minimal = { name: 'github', baseUrl: 'https://api.github.com' };

describe('HttpUpstreamSchema', () => {
  it('fills the safe defaults', () => {
    assert.deepEqual(HttpUpstreamSchema.parse(minimal), {
      ...minimal,
      methods: ['GET'],
      pathPrefixes: ['/'],
      credentials: [],
      allowPrivateNetwork: [],
      timeoutMs: 30_000,
      dnsCacheMs: 5_000,
      maxRequestBytes: 1024 * 1024,
      maxResponseBytes: 10 * 1024 * 1024,
      risk: 'medium',
      tags: [],
      labels: { source: 'trusted', data: 'internal', sink: 'none' },
    });
  });

  it('reads header and query credentials', () => {
    const parsed = HttpUpstreamSchema.parse({
      ...minimal,
      credentials: [
        { secret: 'github-token', header: 'Authorization', format: 'Bearer {value}' },
        { secret: 'maps/key', query: 'key' },
        { secret: 'api-key', header: 'X-Api-Key' },
      ],
    });
    assert.deepEqual(parsed.credentials, [
      { secret: 'github-token', header: 'Authorization', format: 'Bearer {value}' },
      { secret: 'maps/key', query: 'key' },
      { secret: 'api-key', header: 'X-Api-Key', format: '{value}' },
    ]);
  });

  const INVALID: readonly (readonly [string, Record<string, unknown>])[] = [
    ['an upper-case name', { name: 'GitHub' }],
    ['a name with a slash', { name: 'git/hub' }],
    ['a non-HTTP base URL', { baseUrl: 'file:///etc/passwd' }],
    ['a gopher base URL', { baseUrl: 'gopher://example.com' }],
    ['credentials in the base URL', { baseUrl: 'https://user:pass@api.example.com' }],
    ['a query in the base URL', { baseUrl: 'https://api.example.com/?key=1' }],
    ['an unknown method', { methods: ['CONNECT'] }],
    ['TRACE', { methods: ['TRACE'] }],
    ['a prefix without a leading slash', { pathPrefixes: ['repos'] }],
    ['a prefix with ..', { pathPrefixes: ['/repos/../admin'] }],
    ['a prefix with an escape', { pathPrefixes: ['/repos%2f'] }],
    ['a CIDR that is not one', { allowPrivateNetwork: ['10.0.0.0/33'] }],
    ['a host name as CIDR', { allowPrivateNetwork: ['localhost'] }],
    ['a format without {value}', { credentials: [{ secret: 's', header: 'Authorization', format: 'Bearer' }] }],
    ['a format with {value} twice', { credentials: [{ secret: 's', header: 'Authorization', format: '{value}{value}' }] }],
    ['a format with CRLF', { credentials: [{ secret: 's', header: 'Authorization', format: 'Bearer {value}\r\nX: 1' }] }],
    ['a credential header Warden manages', { credentials: [{ secret: 's', header: 'Host' }] }],
    ['a hop-by-hop credential header', { credentials: [{ secret: 's', header: 'Transfer-Encoding' }] }],
    ['a header that is not a token', { credentials: [{ secret: 's', header: 'X Api' }] }],
    ['both header and query', { credentials: [{ secret: 's', header: 'X-Api-Key', query: 'key' }] }],
    ['the same header twice', { credentials: [{ secret: 'a', header: 'X-Key' }, { secret: 'b', header: 'x-key' }] }],
    ['an unknown key', { followRedirects: true }],
    ['an unknown risk tier', { risk: 'extreme' }],
  ];
  for (const [what, patch] of INVALID) {
    it(`rejects ${what}`, () => assert.equal(HttpUpstreamSchema.safeParse({ ...minimal, ...patch }).success, false));
  }

  it('rejects two upstreams with one name', () => {
    assert.equal(HttpUpstreamsSchema.safeParse([minimal, minimal]).success, false);
    assert.equal(HttpUpstreamsSchema.safeParse([minimal, { ...minimal, name: 'other' }]).success, true);
  });
});

describe('findHttpUpstream', () => {
  const list = HttpUpstreamsSchema.parse([minimal]);

  it('finds an upstream by name', () => assert.equal(findHttpUpstream(list, 'github').baseUrl, minimal.baseUrl));

  it('fails with EGRESS_UPSTREAM_UNKNOWN, echoing only a well-formed name', () => {
    assert.throws(() => findHttpUpstream(list, 'gitlab'), (err: WardenError) => err.code === 'EGRESS_UPSTREAM_UNKNOWN' && err.details?.upstream === 'gitlab');
    assert.throws(() => findHttpUpstream(list, '<script>'), (err: WardenError) => err.code === 'EGRESS_UPSTREAM_UNKNOWN' && err.details === undefined);
  });
});

describe('HttpUpstreamSchema flow labels', () => {
  it('refuses a field label that cannot apply to the upstream’s source', () => {
    assert.ok(HttpUpstreamSchema.safeParse({ ...minimal, labels: { source: 'untrusted', trustedFields: ['author'] } }).success);
    const r = HttpUpstreamSchema.safeParse({ ...minimal, labels: { source: 'trusted', anchorFields: ['author'] } });
    assert.equal(r.success, false);
    assert.deepEqual(r.error?.issues.map((i) => i.path.join('.')), ['labels.anchorFields']);
  });
});
