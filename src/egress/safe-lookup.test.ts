import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WardenError } from '../errors/warden-error.js';
import { createAddressPolicy } from './address-policy.js';
import { pinnedLookup, resolveTarget, type ResolvedAddress, type Resolver } from './safe-lookup.js';

/** A resolver from a fixed table; counts its calls. */
function table(entries: Record<string, readonly string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (hostname: string): Promise<readonly ResolvedAddress[]> => {
    calls.push(hostname);
    const addresses = entries[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolver, { calls });
}

const noAllow = createAddressPolicy([]);

async function rejects(promise: Promise<unknown>, code: string, reason?: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof WardenError, String(err));
    assert.equal(err.code, code);
    if (reason !== undefined) assert.equal(err.details?.reason, reason);
    return true;
  });
}

describe('resolveTarget', () => {
  const LITERALS: readonly (readonly [string, string])[] = [
    ['http://127.0.0.1/', 'loopback'],
    ['http://2130706433/', 'loopback'], // decimal
    ['http://0177.0.0.1/', 'loopback'], // octal
    ['http://0x7f.0.0.1/', 'loopback'], // hex
    ['http://0x7f000001/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://0/', 'unspecified'],
    ['http://[::1]/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:a9fe:a9fe]/', 'metadata'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'metadata'],
    ['http://[2002:a00:1::]/', 'private'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://169.254.169.254/latest/meta-data/', 'metadata'],
    ['http://0xa9fea9fe/', 'metadata'],
    ['http://100.100.100.200/', 'metadata'],
    ['http://10.0.0.1/', 'private'],
    ['http://192.168.0.1/', 'private'],
    ['http://100.64.1.1/', 'cgnat'],
  ];
  for (const [url, reason] of LITERALS) {
    it(`refuses the literal address in ${url} (${reason}) without asking DNS`, async () => {
      const resolver = table({});
      await rejects(resolveTarget(new URL(url), noAllow, resolver), 'EGRESS_ADDRESS_BLOCKED', reason);
      assert.deepEqual(resolver.calls, []);
    });
  }

  it('refuses names that resolve to blocked addresses', async () => {
    const resolver = table({
      'evil.test': ['127.0.0.1'],
      'metadata.test': ['169.254.169.254'],
      'mapped.test': ['::ffff:10.0.0.7'],
      'nat64.test': ['64:ff9b::7f00:1'],
      'v6.test': ['::1'],
    });
    await rejects(resolveTarget(new URL('https://evil.test/'), noAllow, resolver), 'EGRESS_ADDRESS_BLOCKED', 'loopback');
    await rejects(resolveTarget(new URL('https://metadata.test/'), noAllow, resolver), 'EGRESS_ADDRESS_BLOCKED', 'metadata');
    await rejects(resolveTarget(new URL('https://mapped.test/'), noAllow, resolver), 'EGRESS_ADDRESS_BLOCKED', 'private');
    await rejects(resolveTarget(new URL('https://nat64.test/'), noAllow, resolver), 'EGRESS_ADDRESS_BLOCKED', 'loopback');
    await rejects(resolveTarget(new URL('https://v6.test/'), noAllow, resolver), 'EGRESS_ADDRESS_BLOCKED', 'loopback');
  });

  it('refuses a name that resolves to a public AND a private address', async () => {
    const resolver = table({ 'both.test': ['93.184.215.14', '10.0.0.5'], 'both6.test': ['2606:4700::1', 'fd00::5'] });
    await rejects(resolveTarget(new URL('https://both.test/'), noAllow, resolver), 'EGRESS_ADDRESS_BLOCKED', 'private');
    await rejects(resolveTarget(new URL('https://both6.test/'), noAllow, resolver), 'EGRESS_ADDRESS_BLOCKED', 'private');
  });

  it('keeps the blocked address out of the error', async () => {
    const resolver = table({ 'evil.test': ['10.9.8.7'] });
    await assert.rejects(resolveTarget(new URL('https://evil.test/'), noAllow, resolver), (err: WardenError) => {
      assert.ok(!JSON.stringify({ m: err.message, d: err.details }).includes('10.9.8.7'));
      return true;
    });
  });

  it('chooses the first address of a name whose addresses all pass', async () => {
    const resolver = table({ 'api.test': ['93.184.215.14', '2606:4700::1'] });
    const target = await resolveTarget(new URL('https://api.test/x'), noAllow, resolver);
    assert.deepEqual({ ...target }, { hostname: 'api.test', address: '93.184.215.14', family: 4, class: 'public' });
  });

  it('lets an allowed private address through and says which class it is', async () => {
    const target = await resolveTarget(new URL('http://svc.test/'), createAddressPolicy(['10.0.0.0/8']), table({ 'svc.test': ['10.1.2.3'] }));
    assert.equal(target.address, '10.1.2.3');
    assert.equal(target.class, 'private');
  });

  it('reports a name that does not resolve, or resolves to nothing, as UPSTREAM_UNAVAILABLE', async () => {
    const resolver = table({ 'empty.test': [] });
    await rejects(resolveTarget(new URL('https://nowhere.test/'), noAllow, resolver), 'UPSTREAM_UNAVAILABLE', 'dns');
    await rejects(resolveTarget(new URL('https://empty.test/'), noAllow, resolver), 'UPSTREAM_UNAVAILABLE', 'dns');
  });
});

describe('pinnedLookup', () => {
  it('answers the checked address whatever it is asked, in both callback shapes', async () => {
    const target = await resolveTarget(new URL('http://svc.test/'), createAddressPolicy(['10.0.0.0/8']), table({ 'svc.test': ['10.1.2.3'] }));
    const lookup = pinnedLookup(target);
    const one = await new Promise((resolve) => lookup('other.test', {}, (err, address, family) => resolve({ err, address, family })));
    assert.deepEqual(one, { err: null, address: '10.1.2.3', family: 4 });
    const all = await new Promise((resolve) => lookup('other.test', { all: true }, (err, address) => resolve({ err, address })));
    assert.deepEqual(all, { err: null, address: [{ address: '10.1.2.3', family: 4 }] });
  });

  it('refuses a target that did not come from resolveTarget', () => {
    assert.throws(() => pinnedLookup({ hostname: 'x.test', address: '169.254.169.254', family: 4, class: 'public' }), TypeError);
  });
});
