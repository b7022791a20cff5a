import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyAddress, createAddressPolicy, embeddedIpv4, parseCidr, type AddressClass } from './address-policy.js';

const BLOCKED: readonly (readonly [string, AddressClass])[] = [
  // IPv4
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.0.0.1', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['169.254.0.1', 'link-local'],
  ['169.254.169.254', 'metadata'],
  ['169.254.170.2', 'metadata'],
  ['100.100.100.200', 'metadata'],
  ['168.63.129.16', 'metadata'],
  ['192.0.0.192', 'metadata'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.10', 'documentation'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // IPv6
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf::1', 'link-local'],
  ['fc00::1', 'private'],
  ['fd12:3456::1', 'private'],
  ['fd00:ec2::254', 'metadata'],
  ['fec0::1', 'private'],
  ['ff02::1', 'multicast'],
  ['2001:db8::1', 'documentation'],
  ['3fff::1', 'documentation'],
  ['2001:2::1', 'benchmarking'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'], // Teredo
  ['100::1', 'reserved'],
  ['4000::1', 'reserved'], // outside 2000::/3
  // IPv6 spellings of an IPv4 address
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['0:0:0:0:0:ffff:a9fe:a9fe', 'metadata'],
  ['::ffff:10.1.2.3', 'private'],
  ['::127.0.0.1', 'loopback'], // IPv4-compatible
  ['::8.8.8.8', 'reserved'], // IPv4-compatible is deprecated even for a public address
  ['64:ff9b::127.0.0.1', 'loopback'], // NAT64
  ['64:ff9b::a9fe:a9fe', 'metadata'],
  ['64:ff9b:1::1', 'private'], // local-use NAT64
  ['2002:7f00:1::', 'loopback'], // 6to4 of 127.0.0.1
  ['2002:a9fe:a9fe::1', 'metadata'],
  ['2002:c0a8:0101::', 'private'],
  ['not-an-ip', 'invalid'],
  ['127.1', 'invalid'], // only the URL parser turns this into 127.0.0.1; as an address it is not one
];

const PUBLIC = ['8.8.8.8', '1.1.1.1', '93.184.215.14', '172.32.0.1', '100.128.0.1', '169.255.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'];

describe('classifyAddress', () => {
  for (const [ip, reason] of BLOCKED) {
    it(`classifies ${ip} as ${reason}`, () => assert.equal(classifyAddress(ip), reason));
  }
  for (const ip of PUBLIC) {
    it(`classifies ${ip} as public`, () => assert.equal(classifyAddress(ip), 'public'));
  }

  it('finds the IPv4 address inside mapped, compatible, NAT64 and 6to4 forms', () => {
    assert.deepEqual(embeddedIpv4('::ffff:7f00:1'), { form: 'mapped', ipv4: '127.0.0.1' });
    assert.deepEqual(embeddedIpv4('::a9fe:a9fe'), { form: 'compatible', ipv4: '169.254.169.254' });
    assert.deepEqual(embeddedIpv4('64:ff9b::10.0.0.1'), { form: 'nat64', ipv4: '10.0.0.1' });
    assert.deepEqual(embeddedIpv4('2002:0a00:0001::'), { form: '6to4', ipv4: '10.0.0.1' });
    assert.equal(embeddedIpv4('2606:4700::1'), undefined);
    assert.equal(embeddedIpv4('::1'), undefined);
    assert.equal(embeddedIpv4('127.0.0.1'), undefined);
  });
});

describe('createAddressPolicy', () => {
  it('blocks every non-public address when nothing is allowed', () => {
    const policy = createAddressPolicy([]);
    for (const [ip, reason] of BLOCKED) assert.deepEqual(policy.check(ip), { allowed: false, reason }, ip);
    for (const ip of PUBLIC) assert.deepEqual(policy.check(ip), { allowed: true, class: 'public' }, ip);
  });

  it('lets exactly the allowed ranges through, in either spelling of an IPv4 address', () => {
    const policy = createAddressPolicy(['127.0.0.1/32', '10.1.0.0/16', 'fd00:1::/32']);
    assert.deepEqual(policy.check('127.0.0.1'), { allowed: true, class: 'loopback' });
    assert.deepEqual(policy.check('::ffff:127.0.0.1'), { allowed: true, class: 'loopback' });
    assert.deepEqual(policy.check('127.0.0.2'), { allowed: false, reason: 'loopback' });
    assert.deepEqual(policy.check('10.1.200.3'), { allowed: true, class: 'private' });
    assert.deepEqual(policy.check('10.2.0.1'), { allowed: false, reason: 'private' });
    assert.deepEqual(policy.check('fd00:1:2::3'), { allowed: true, class: 'private' });
    assert.deepEqual(policy.check('fd00:2::3'), { allowed: false, reason: 'private' });
    assert.deepEqual(policy.check('::1'), { allowed: false, reason: 'loopback' });
  });

  it('opens a metadata address only when it is listed by itself, not by a covering range', () => {
    assert.deepEqual(createAddressPolicy(['169.254.0.0/16']).check('169.254.169.254'), { allowed: false, reason: 'metadata' });
    assert.deepEqual(createAddressPolicy(['169.254.0.0/16']).check('169.254.1.1'), { allowed: true, class: 'link-local' });
    assert.deepEqual(createAddressPolicy(['0.0.0.0/0']).check('100.100.100.200'), { allowed: false, reason: 'metadata' });
    assert.deepEqual(createAddressPolicy(['169.254.169.254']).check('169.254.169.254'), { allowed: true, class: 'metadata' });
  });

  it('never opens unspecified, multicast or broadcast addresses', () => {
    const policy = createAddressPolicy(['0.0.0.0/0', '::/0']);
    assert.deepEqual(policy.check('0.0.0.0'), { allowed: false, reason: 'unspecified' });
    assert.deepEqual(policy.check('::'), { allowed: false, reason: 'unspecified' });
    assert.deepEqual(policy.check('224.0.0.1'), { allowed: false, reason: 'multicast' });
    assert.deepEqual(policy.check('255.255.255.255'), { allowed: false, reason: 'broadcast' });
  });

  it('rejects an entry that is not a CIDR', () => {
    assert.throws(() => createAddressPolicy(['localhost']), TypeError);
  });
});

describe('parseCidr', () => {
  it('reads CIDRs and bare addresses, and nothing else', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { network: '10.0.0.0', prefix: 8, family: 'ipv4' });
    assert.deepEqual(parseCidr('127.0.0.1'), { network: '127.0.0.1', prefix: 32, family: 'ipv4' });
    assert.deepEqual(parseCidr('fd00::/8'), { network: 'fd00::', prefix: 8, family: 'ipv6' });
    for (const bad of ['10.0.0.0/33', '::/129', 'fe80::1%eth0', 'example.com/8', '10.0.0.0/', '', '10/8']) assert.equal(parseCidr(bad), undefined, bad);
  });
});
