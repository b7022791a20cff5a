import { WardenError } from '../errors/warden-error.js';
import type { Credential } from './upstream-config.js';

/** Reads a secret's value by its name in the secret store. */
export type SecretResolver = (name: string) => Promise<string>;

/** The upstream credentials of one call, ready to put on the request. */
export interface Injection {
  /** Lower-case header name → value. */
  readonly headers: ReadonlyMap<string, string>;
  /** Query parameter name → value (not yet encoded). */
  readonly query: ReadonlyMap<string, string>;
  /**
   * Every secret value injected, raw and as it appears percent-encoded in a URL, so the
   * response inspector can redact an upstream that echoes it.
   */
  readonly values: ReadonlySet<string>;
}

/**
 * Fetches the upstream's secrets and shapes them for the request. A value is refused unless
 * it is non-empty visible ASCII (spaces inside allowed): a CR or LF in a secret would split
 * the header it goes into (RFC 9110 §5.5).
 *
 * @throws WardenError `EGRESS_CREDENTIAL_UNAVAILABLE` (details: the secret's name, never its
 *   value); a `WardenError` from `resolveSecret` itself passes through unchanged.
 */
export async function resolveCredentials(credentials: readonly Credential[], resolveSecret: SecretResolver): Promise<Injection> {
  const headers = new Map<string, string>();
  const query = new Map<string, string>();
  const values = new Set<string>();
  for (const credential of credentials) {
    let value: string;
    try {
      value = await resolveSecret(credential.secret);
    } catch (err) {
      if (err instanceof WardenError) throw err;
      throw new WardenError('EGRESS_CREDENTIAL_UNAVAILABLE', { secret: credential.secret }, { cause: err });
    }
    if (typeof value !== 'string' || !/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value)) {
      throw new WardenError('EGRESS_CREDENTIAL_UNAVAILABLE', { secret: credential.secret, reason: 'invalid-value' });
    }
    values.add(value);
    if ('header' in credential) {
      // split/join, not String#replace: a `$&` in a secret must stay literal.
      headers.set(credential.header.toLowerCase(), credential.format.split('{value}').join(value));
    } else {
      query.set(credential.query, value);
      values.add(encodeURIComponent(value));
    }
  }
  return { headers, query, values };
}

/** The name of one `a=b` query pair, decoded as servers decode it (`+` is a space). */
function paramName(pair: string): string {
  const [name = ''] = new URLSearchParams(pair).keys();
  return name;
}

/**
 * Removes every parameter named in `names` from a raw query string, leaving the rest byte for
 * byte as it was (re-serializing would change encodings an upstream may sign or rely on).
 * Names are compared decoded, so `api%5Fkey=…` goes too when `api_key` is injected.
 */
export function removeQueryParams(query: string, names: Iterable<string>): string {
  const drop = new Set(names);
  if (drop.size === 0 || query === '') return query;
  return query
    .split('&')
    .filter((pair) => pair === '' || !drop.has(paramName(pair)))
    .join('&');
}

/** The raw query with the injected parameters in place of any the agent sent. */
export function injectQuery(query: string, injection: Injection): string {
  const kept = removeQueryParams(query, injection.query.keys());
  const added = [...injection.query].map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return [kept, ...added].filter((p) => p !== '').join('&');
}

/** The sanitized agent headers with the injected ones set over any of the same name. */
export function injectHeaders(headers: Record<string, string | string[]>, injection: Injection): Record<string, string | string[]> {
  const out = { ...headers };
  for (const [name, value] of injection.headers) out[name] = value;
  return out;
}
