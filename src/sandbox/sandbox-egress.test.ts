import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpUpstreamSchema } from '../egress/upstream-config.js';
import { matchUpstream, sandboxView } from './sandbox-egress.js';

const u = (name: string, baseUrl: string) => HttpUpstreamSchema.parse({ name, baseUrl });
const github = u('github', 'https://api.github.com');
const billing = u('billing', 'https://billing.example.com:8443/api/v2');
const billingAdmin = u('admin', 'https://billing.example.com:8443/api/v2/admin');
const all = [github, billing, billingAdmin];

describe('sandboxView', () => {
  it('is the upstream as plain HTTP at its host (its port kept when not the default) and base path', () => {
    assert.equal(sandboxView(github), 'http://api.github.com');
    assert.equal(sandboxView(billing), 'http://billing.example.com:8443/api/v2');
  });
});

describe('matchUpstream', () => {
  it('finds the declared upstream by host and base path, with the path under it', () => {
    assert.deepEqual(matchUpstream(all, ['github'], new URL('http://api.github.com/repos/a/b')), { upstream: github, path: '/repos/a/b' });
    assert.deepEqual(matchUpstream(all, ['billing'], new URL('http://billing.example.com:8443/api/v2/invoices')), { upstream: billing, path: '/invoices' });
    assert.deepEqual(matchUpstream(all, ['billing'], new URL('http://billing.example.com:8443/api/v2')), { upstream: billing, path: '/' });
  });

  it('prefers the longest base path among the declared ones', () => {
    assert.equal(matchUpstream(all, ['billing', 'admin'], new URL('http://billing.example.com:8443/api/v2/admin/x'))?.upstream, billingAdmin);
    assert.equal(matchUpstream(all, ['billing'], new URL('http://billing.example.com:8443/api/v2/admin/x'))?.upstream, billing);
  });

  it('finds nothing undeclared, on another port, or beside the base path', () => {
    assert.equal(matchUpstream(all, ['billing'], new URL('http://api.github.com/repos')), undefined);
    assert.equal(matchUpstream(all, ['billing'], new URL('http://billing.example.com/api/v2/x')), undefined);
    assert.equal(matchUpstream(all, ['billing'], new URL('http://billing.example.com:8443/api/v2x')), undefined);
    assert.equal(matchUpstream(all, ['github'], new URL('http://api.github.com.evil.example/repos')), undefined);
    assert.equal(matchUpstream(all, [], new URL('http://api.github.com/')), undefined);
  });
});
