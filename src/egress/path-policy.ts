import { WardenError } from '../errors/warden-error.js';

/** A `.` or `..` path segment (RFC 3986 §3.3): the upstream would resolve it (§5.2.4). */
export const dotSegment = (segment: string): boolean => segment === '.' || segment === '..';

/**
 * How many times an encoded segment is decoded while looking for a hidden `..` or `/`: some
 * servers and frameworks decode twice, so `%252e%252e` must be caught as well as `%2e%2e`.
 * Deeper nesting is refused outright.
 */
const DECODE_ROUNDS = 3;

const refuse = (reason: string): never => {
  throw new WardenError('EGRESS_PATH_NOT_ALLOWED', { reason });
};

/** Percent-decodes byte by byte (latin-1), so no UTF-8 error can hide what a byte is. */
const percentDecode = (text: string): string => text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

/** Checks one raw segment and every decoding of it; returns it decoded once. */
function checkSegment(raw: string): string {
  let current = raw;
  let once: string | undefined;
  for (let round = 0; ; round++) {
    if (dotSegment(current)) refuse('traversal');
    if (round > 0) {
      // Before decoding these are the literal separators, checked on the whole path.
      if (current.includes('/') || current.includes('\\')) refuse('encoded-separator');
      if (/[\x00-\x1f\x7f]/.test(current)) refuse('control-char');
    }
    const next = percentDecode(current);
    once ??= next;
    if (next === current) return once;
    if (round === DECODE_ROUNDS) refuse('encoded');
    current = next;
  }
}

/** A path the upstream may receive, and the same path decoded once (what prefixes match). */
export interface CheckedPath {
  /** Still percent-encoded as the agent sent it; repeated slashes merged. */
  readonly path: string;
  readonly decoded: string;
}

/**
 * Normalizes the path the agent asked for after `/proxy/<name>` and checks it against the
 * upstream's `pathPrefixes`. Refused: anything but visible ASCII, `?` and `#` (the query comes
 * separately), backslashes (some servers take them for `/`), malformed percent-escapes, `.`
 * and `..` segments in any spelling (`%2e%2e`, `.%2E`, `%252e%252e`), and encoded `/`, `\`,
 * NUL and control characters, which would let a segment turn into two after the check.
 * Empty segments are merged (`/a//b` → `/a/b`), as most servers do. A prefix matches on a
 * segment boundary: `/repos` admits `/repos` and `/repos/x`, never `/reposX`; a prefix that
 * ends in `/` admits only what is below it.
 *
 * @throws WardenError `EGRESS_PATH_NOT_ALLOWED` (details: the reason).
 */
export function checkPath(raw: string, prefixes: readonly string[]): CheckedPath {
  const text = raw === '' ? '/' : raw;
  if (!text.startsWith('/')) refuse('malformed');
  if (/[\x00-\x1f\x7f]/.test(text)) refuse('control-char');
  if (text.includes('\\')) refuse('backslash');
  if (/[^\x21-\x7e]|[?#]/.test(text)) refuse('malformed');
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) refuse('malformed');

  const segments = text.split('/').filter((s) => s !== '');
  const decoded = segments.map(checkSegment);
  const trailing = segments.length > 0 && text.endsWith('/') ? '/' : '';
  const path = `/${segments.join('/')}${trailing}`;
  const decodedPath = `/${decoded.join('/')}${trailing}`;
  if (!prefixes.some((prefix) => underPrefix(decodedPath, prefix))) refuse('prefix');
  return { path, decoded: decodedPath };
}

/** True when `path` is `prefix` or below it, on a segment boundary. */
export function underPrefix(path: string, prefix: string): boolean {
  if (prefix.endsWith('/')) return path.startsWith(prefix);
  return path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * Checks the raw query string (without `?`): visible ASCII only and no `#`, so nothing in it
 * can end the request line or smuggle a fragment.
 *
 * @throws WardenError `INVALID_INPUT` (details: `reason: 'query'`).
 */
export function checkQuery(raw: string): string {
  const query = raw.startsWith('?') ? raw.slice(1) : raw;
  if (/[^\x21-\x7e]|#/.test(query)) throw new WardenError('INVALID_INPUT', { reason: 'query' });
  return query;
}
