import { ADDRCONFIG } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { WardenError } from '../errors/warden-error.js';
import type { AddressClass, AddressPolicy } from './address-policy.js';

/** One address a name resolves to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * Resolves a host name to every address it has. Injected so tests can make `evil.test` answer
 * `127.0.0.1`; production uses {@link systemResolver}.
 */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/**
 * The operating system's resolver (`getaddrinfo`, so `/etc/hosts` counts as it does for every
 * other program on the host), all addresses in the order it gives them.
 */
export const systemResolver: Resolver = async (hostname) => {
  // ADDRCONFIG as net.connect asks: no IPv6 answers on a host without IPv6 to reach them by.
  const answers = await lookup(hostname, { all: true, verbatim: true, hints: ADDRCONFIG });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** An address that passed the upstream's address policy, and the host name it stands for. */
export interface CheckedTarget {
  /** The URL's host name (IPv6 literals without brackets): Host header and TLS SNI use it. */
  readonly hostname: string;
  /** The one address the connection goes to. */
  readonly address: string;
  readonly family: 4 | 6;
  /** `'public'`, or the blocked class the upstream's `allowPrivateNetwork` let through. */
  readonly class: AddressClass;
}

/** Targets made by {@link resolveTarget}: nothing else may steer a connection. */
const CHECKED = new WeakSet<CheckedTarget>();

/**
 * Finds where a request to `url` may connect, or refuses. A literal IP is checked as it is;
 * the WHATWG URL parser has already turned `2130706433`, `0177.0.0.1` and `0x7f.1` into
 * `127.0.0.1`, so the check sees what a socket would reach. A name is resolved here, and
 * EVERY address it has must pass: an attacker who controls a zone can publish a public
 * address beside `127.0.0.1`, and which one a client picks is not ours to bet on. The first
 * address is chosen; {@link pinnedLookup} then makes the socket connect to exactly that one,
 * so no second resolution (DNS rebinding) can slip another address in after the check.
 *
 * @throws WardenError `EGRESS_ADDRESS_BLOCKED` (details: the reason, never the address),
 *   `UPSTREAM_UNAVAILABLE` when the name does not resolve.
 */
export async function resolveTarget(
  url: URL,
  policy: AddressPolicy,
  resolver: Resolver,
  race: <T>(p: Promise<T>) => Promise<T> = (p) => p,
): Promise<CheckedTarget> {
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let answers: readonly ResolvedAddress[];
  const literal = isIP(hostname);
  if (literal !== 0) {
    answers = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      answers = await race(resolver(hostname));
    } catch (err) {
      if (err instanceof WardenError) throw err;
      throw new WardenError('UPSTREAM_UNAVAILABLE', { reason: 'dns' }, { cause: err });
    }
    if (answers.length === 0) throw new WardenError('UPSTREAM_UNAVAILABLE', { reason: 'dns' });
  }
  let first: CheckedTarget | undefined;
  for (const answer of answers) {
    const decision = policy.check(answer.address);
    if (!decision.allowed) throw new WardenError('EGRESS_ADDRESS_BLOCKED', { reason: decision.reason });
    first ??= { hostname, address: answer.address, family: isIP(answer.address) === 6 ? 6 : 4, class: decision.class };
  }
  const target = Object.freeze(first as CheckedTarget);
  CHECKED.add(target);
  return target;
}

/**
 * A `lookup` for `net.connect` / `tls.connect` that answers the checked address and nothing
 * else, whatever name it is asked about. With it the URL keeps its host name (Host header,
 * TLS SNI and certificate check stay right) while the socket goes where the check said.
 * Node skips `lookup` for literal IPs; those were checked as they are.
 *
 * @throws TypeError for a target that {@link resolveTarget} did not return.
 */
export function pinnedLookup(target: CheckedTarget): LookupFunction {
  if (!CHECKED.has(target)) throw new TypeError('pinnedLookup takes a target from resolveTarget');
  const { address, family } = target;
  return (_hostname, options, callback) => {
    // With `autoSelectFamily` (the default since Node 20) net asks for all addresses.
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}
