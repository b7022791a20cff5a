import { WardenError } from '../errors/warden-error.js';

/** Header fields as Node's `IncomingHttpHeaders` and undici's responses give them. */
export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>;

/** RFC 9110 §5.1: a field name is a token. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Connection-specific fields (RFC 9110 §7.6.1): meaningful for one hop only, so a proxy MUST
 * NOT forward them, in either direction. `proxy-connection` is the pre-standard spelling
 * clients still send; every `proxy-*` field is dropped as well.
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * What the agent may not pass on: its own credentials for Warden (`authorization`, `dpop`),
 * cookies, and anything that claims to say where the request came from or goes to. Framing
 * (`content-length`, `expect`) is Warden's to set for the body it sends; `accept-encoding`
 * is replaced by `identity` so the response scanner sees plain bytes and the size limit
 * counts what the agent receives.
 */
const AGENT_ONLY: ReadonlySet<string> = new Set([
  'authorization',
  'dpop',
  'cookie',
  'host',
  'forwarded',
  'x-real-ip',
  'content-length',
  'expect',
  'accept-encoding',
  'http2-settings',
]);

/**
 * Response fields the agent must not get: `set-cookie` may carry a session the upstream bound
 * to Warden's credential (and the agent cannot send cookies back anyway); `alt-svc` would
 * point the agent's client for Warden's origin at another host (RFC 7838 §2.1).
 * `content-length` is dropped because the body is handed over buffered, possibly redacted,
 * and whoever sends it frames it.
 */
const UPSTREAM_ONLY: ReadonlySet<string> = new Set(['set-cookie', 'set-cookie2', 'alt-svc', 'content-length']);

/** Header names an upstream credential may not be injected into: Warden sets or strips them. */
export const FORBIDDEN_CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'host', 'content-length', 'expect', 'accept-encoding', 'via']);

const isHopByHop = (name: string): boolean => HOP_BY_HOP.has(name) || name.startsWith('proxy-');

/** The field names a `Connection` header lists: they are hop-by-hop for this message too. */
function connectionOptions(headers: HeaderMap): Set<string> {
  const named = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'connection' || value === undefined) continue;
    for (const line of typeof value === 'string' ? [value] : value) {
      for (const token of line.split(',')) if (token.trim()) named.add(token.trim().toLowerCase());
    }
  }
  return named;
}

const values = (value: string | readonly string[]): readonly string[] => (typeof value === 'string' ? [value] : value);

/**
 * Rejects a field value that could split a header (CR, LF) or truncate it (NUL); other
 * control characters (except HTAB) are invalid field content as well, and a field value is
 * bytes: VCHAR, SP, HTAB and obs-text only (RFC 9110 §5.5).
 */
export const unsafeFieldValue = (value: string): boolean => /[^\t\x20-\x7e\x80-\xff]/.test(value);

/**
 * The agent's headers as they may go upstream: lower-cased names, hop-by-hop fields and the
 * ones the `Connection` header names removed (RFC 9110 §7.6.1), Warden's and the agent's own
 * credentials and forwarding claims removed. HTTP/2 pseudo-headers (`:path`, …) are not
 * fields and are dropped.
 *
 * @throws WardenError `INVALID_INPUT` (details: the header name) for a name that is not a
 *   token or a value with CR, LF, NUL or another control character.
 */
export function sanitizeRequestHeaders(headers: HeaderMap): Record<string, string | string[]> {
  const named = connectionOptions(headers);
  const out: Record<string, string | string[]> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    if (value === undefined || rawName.startsWith(':')) continue;
    if (!HEADER_NAME.test(rawName)) throw new WardenError('INVALID_INPUT', { reason: 'header-name' });
    const name = rawName.toLowerCase();
    const list = values(value);
    if (list.some(unsafeFieldValue)) throw new WardenError('INVALID_INPUT', { reason: 'header-value', header: name });
    if (isHopByHop(name) || named.has(name) || AGENT_ONLY.has(name) || name.startsWith('x-forwarded-')) continue;
    const prior = out[name];
    out[name] = prior === undefined ? (list.length === 1 ? (list[0] as string) : [...list]) : [...values(prior), ...list];
  }
  return out;
}

/**
 * The upstream's headers as they may go back to the agent: hop-by-hop fields and those its
 * `Connection` header names removed (RFC 9110 §7.6.1), plus the ones in {@link UPSTREAM_ONLY}.
 */
export function sanitizeResponseHeaders(headers: HeaderMap): Record<string, string | string[]> {
  const named = connectionOptions(headers);
  const out: Record<string, string | string[]> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (value === undefined || isHopByHop(name) || named.has(name) || UPSTREAM_ONLY.has(name)) continue;
    out[name] = typeof value === 'string' ? value : [...value];
  }
  return out;
}
