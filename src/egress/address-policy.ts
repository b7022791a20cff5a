import { BlockList, isIP } from 'node:net';

/**
 * Why an address may not be reached by default. Goes into `EGRESS_ADDRESS_BLOCKED` details
 * and the audit trail; the address itself does not (it would map the internal network for the
 * agent).
 */
export type BlockReason =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link-local'
  | 'metadata'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved'
  | 'invalid';

/** `'public'`, or the reason the address is blocked unless an upstream allows it. */
export type AddressClass = 'public' | BlockReason;

type Family = 'ipv4' | 'ipv6';
type Range = readonly [network: string, prefix: number];

/**
 * Special-purpose ranges, most specific first: the first match names the reason, so the
 * metadata hosts must come before the link-local and private ranges that contain them.
 * Sources: the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890) and the
 * cloud providers' documented instance-metadata endpoints.
 */
const V4_RANGES: readonly (readonly [BlockReason, readonly Range[]])[] = [
  [
    'metadata',
    [
      ['169.254.169.254', 32], // AWS, GCP, Azure, OpenStack, Oracle IMDS
      ['169.254.170.2', 32], // AWS ECS task metadata
      ['100.100.100.200', 32], // Alibaba Cloud
      ['168.63.129.16', 32], // Azure WireServer: a public-looking address only the host answers
      ['192.0.0.192', 32], // Oracle Cloud (classic)
    ],
  ],
  ['unspecified', [['0.0.0.0', 8]]], // RFC 1122 §3.2.1.3 "this network"; Linux connects 0.0.0.0 to itself
  ['loopback', [['127.0.0.0', 8]]],
  ['private', [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]]], // RFC 1918
  ['cgnat', [['100.64.0.0', 10]]], // RFC 6598 shared address space
  ['link-local', [['169.254.0.0', 16]]], // RFC 3927
  ['documentation', [['192.0.2.0', 24], ['198.51.100.0', 24], ['203.0.113.0', 24]]], // RFC 5737
  ['benchmarking', [['198.18.0.0', 15]]], // RFC 2544
  ['broadcast', [['255.255.255.255', 32]]], // RFC 919
  ['multicast', [['224.0.0.0', 4]]], // RFC 5771
  [
    'reserved',
    [
      ['192.0.0.0', 24], // RFC 6890 IETF protocol assignments
      ['192.88.99.0', 24], // RFC 7526 deprecated 6to4 relay anycast
      ['240.0.0.0', 4], // RFC 1112 §4 reserved for future use
    ],
  ],
];

/**
 * IPv6 ranges that do not embed an IPv4 address. Anything outside 2000::/3 (the only block
 * IANA allocates for global unicast) that no line names is `reserved` as well.
 */
const V6_RANGES: readonly (readonly [BlockReason, readonly Range[]])[] = [
  ['metadata', [['fd00:ec2::254', 128]]], // AWS IMDS over IPv6
  ['unspecified', [['::', 128]]],
  ['loopback', [['::1', 128]]],
  ['link-local', [['fe80::', 10]]], // RFC 4291 §2.5.6
  ['private', [['fc00::', 7], ['fec0::', 10], ['64:ff9b:1::', 48]]], // RFC 4193 ULA, RFC 3879 site-local, RFC 8215 local NAT64
  ['multicast', [['ff00::', 8]]],
  ['documentation', [['2001:db8::', 32], ['3fff::', 20]]], // RFC 3849, RFC 9637
  ['benchmarking', [['2001:2::', 48]]], // RFC 5180
  [
    'reserved',
    [
      ['100::', 64], // RFC 6666 discard-only
      ['2001::', 23], // RFC 2928 IETF protocol assignments, incl. Teredo 2001::/32 (its client address is obfuscated)
      ['5f00::', 16], // RFC 9602 SRv6 SIDs
    ],
  ],
];

function buildLists(family: Family, table: typeof V4_RANGES): readonly (readonly [BlockReason, BlockList])[] {
  return table.map(([reason, ranges]) => {
    const list = new BlockList();
    for (const [network, prefix] of ranges) list.addSubnet(network, prefix, family);
    return [reason, list] as const;
  });
}

const V4_LISTS = buildLists('ipv4', V4_RANGES);
const V6_LISTS = buildLists('ipv6', V6_RANGES);
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');

/** Reasons no allow list can lift: none of these is a unicast host an HTTP server could be. */
const NEVER_ALLOWED: ReadonlySet<BlockReason> = new Set(['unspecified', 'multicast', 'broadcast', 'invalid']);

/** The 16 bytes of an IPv6 address that `isIP` accepted (zone id already removed). */
function ipv6Bytes(ip: string): Uint8Array {
  let text = ip;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // A dotted-quad tail (`::ffff:1.2.3.4`) stands for the last two groups.
    tail.push(...text.slice(lastColon + 1).split('.').map(Number));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const groups = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  if (tail.length === 4) bytes.set(tail, 12);
  return bytes;
}

const dotted = (b: Uint8Array, at: number): string => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
const allZero = (b: Uint8Array, from: number, to: number): boolean => b.subarray(from, to).every((x) => x === 0);

/**
 * The IPv4 address an IPv6 address stands for, where the IPv6 form is only a wrapper that a
 * dual-stack socket, a NAT64 gateway or a 6to4 relay turns into an IPv4 connection:
 * IPv4-mapped `::ffff:0:0/96` (RFC 4291 §2.5.5.2), IPv4-compatible `::/96` (§2.5.5.1,
 * deprecated), NAT64 `64:ff9b::/96` (RFC 6052 §2.1) and 6to4 `2002::/16` (RFC 3056 §2).
 */
export function embeddedIpv4(ip: string): { readonly form: 'mapped' | 'compatible' | 'nat64' | '6to4'; readonly ipv4: string } | undefined {
  const bare = stripZone(ip);
  if (isIP(bare) !== 6) return undefined;
  const b = ipv6Bytes(bare);
  if (allZero(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return { form: 'mapped', ipv4: dotted(b, 12) };
  // `::` and `::1` have twelve zero bytes too, but are IPv6's own unspecified and loopback.
  if (allZero(b, 0, 12) && !allZero(b, 12, 15)) return { form: 'compatible', ipv4: dotted(b, 12) };
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && allZero(b, 4, 12)) return { form: 'nat64', ipv4: dotted(b, 12) };
  if (b[0] === 0x20 && b[1] === 0x02) return { form: '6to4', ipv4: dotted(b, 2) };
  return undefined;
}

/** Zone ids (`fe80::1%eth0`) only qualify link-local addresses; BlockList does not accept them. */
const stripZone = (ip: string): string => ip.replace(/%.*$/, '');

function classifyIpv4(ip: string): AddressClass {
  for (const [reason, list] of V4_LISTS) if (list.check(ip, 'ipv4')) return reason;
  return 'public';
}

/**
 * Classifies one IP address (v4 or v6, as `net.isIP` accepts it). An IPv6 address that only
 * wraps an IPv4 one is classified by the IPv4 address inside it, so `::ffff:127.0.0.1`,
 * `64:ff9b::a9fe:a9fe` and `2002:7f00:1::` are as blocked as what they reach.
 */
export function classifyAddress(ip: string): AddressClass {
  const version = isIP(ip);
  if (version === 4) return classifyIpv4(ip);
  if (version !== 6) return 'invalid';
  const bare = stripZone(ip);
  const embedded = embeddedIpv4(bare);
  if (embedded) {
    const inner = classifyIpv4(embedded.ipv4);
    // Nothing legitimate lives on a deprecated IPv4-compatible address; treat it as reserved.
    return inner === 'public' && embedded.form === 'compatible' ? 'reserved' : inner;
  }
  for (const [reason, list] of V6_LISTS) if (list.check(bare, 'ipv6')) return reason;
  return GLOBAL_UNICAST.check(bare, 'ipv6') ? 'public' : 'reserved';
}

/** A CIDR (`10.0.0.0/8`, `fd00::/8`) or a single address, as `allowPrivateNetwork` takes them. */
export interface Cidr {
  readonly network: string;
  readonly prefix: number;
  readonly family: Family;
}

/** Parses a CIDR or a bare address (a /32 or /128); `undefined` when it is neither. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/]+?)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!match?.[1]) return undefined;
  const version = isIP(match[1]);
  if (version === 0 || match[1].includes('%')) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = match[2] === undefined ? max : Number(match[2]);
  if (prefix > max) return undefined;
  return { network: match[1], prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** The outcome for one resolved or literal address under an upstream's allow list. */
export type AddressDecision =
  | { readonly allowed: true; readonly class: AddressClass }
  | { readonly allowed: false; readonly reason: BlockReason };

/** Decides addresses for one upstream. Built once per `allowPrivateNetwork` list. */
export interface AddressPolicy {
  check(ip: string): AddressDecision;
}

/**
 * The address policy of an upstream: public addresses pass; blocked ones pass only when the
 * upstream's `allowPrivateNetwork` covers them. Two limits hold whatever the list says:
 * unspecified, multicast and broadcast never pass, and a cloud metadata address passes only
 * when the list names that very address (a /32 or /128), so `169.254.0.0/16` for a
 * link-local device does not also hand out the instance's credentials.
 *
 * @throws TypeError when an entry is not a CIDR (the config schema rejects those first).
 */
export function createAddressPolicy(allowPrivateNetwork: readonly string[] = []): AddressPolicy {
  const ranges = new BlockList();
  const hosts = new BlockList();
  for (const entry of allowPrivateNetwork) {
    const cidr = parseCidr(entry);
    if (!cidr) throw new TypeError('allowPrivateNetwork entries must be CIDRs');
    ranges.addSubnet(cidr.network, cidr.prefix, cidr.family);
    if (cidr.prefix === (cidr.family === 'ipv4' ? 32 : 128)) hosts.addAddress(cidr.network, cidr.family);
  }
  const covered = (list: BlockList, ip: string): boolean => {
    const bare = stripZone(ip);
    // An IPv4-mapped address is the IPv4 address itself; check both spellings explicitly.
    const mapped = isIP(bare) === 6 ? embeddedIpv4(bare) : undefined;
    if (mapped?.form === 'mapped' && list.check(mapped.ipv4, 'ipv4')) return true;
    return list.check(bare, isIP(bare) === 4 ? 'ipv4' : 'ipv6');
  };
  const decide = (ip: string): AddressDecision => {
    const cls = classifyAddress(ip);
    if (cls === 'public') return { allowed: true, class: cls };
    if (NEVER_ALLOWED.has(cls)) return { allowed: false, reason: cls };
    const allowed = cls === 'metadata' ? covered(hosts, ip) : covered(ranges, ip);
    return allowed ? { allowed: true, class: cls } : { allowed: false, reason: cls };
  };
  // A decision depends only on the address text and this (fixed) list, and every forwarded
  // request asks again for the same few addresses: each BlockList lookup builds a SocketAddress.
  const decided = new Map<string, AddressDecision>();
  return {
    check(ip: string): AddressDecision {
      let decision = decided.get(ip);
      if (!decision) {
        decision = Object.freeze(decide(ip));
        if (decided.size >= 4096) decided.clear();
        decided.set(ip, decision);
      }
      return decision;
    },
  };
}
