/**
 * Capability patterns name tools (`github.create_issue`) and endpoints (`http:billing/invoices`).
 * In a pattern, `*` matches within one segment (no `.` or `/`), `**` matches across segments.
 */
const cache = new Map<string, RegExp>();

function toRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const body = pattern
      .split('**')
      .map((part) => part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('[^./]*'))
      .join('.*');
    re = new RegExp(`^${body}$`);
    if (cache.size > 10_000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

export const hasWildcard = (s: string): boolean => s.includes('*');

/** Does the pattern match this literal capability name? */
export function matches(pattern: string, name: string): boolean {
  return pattern === name || (hasWildcard(pattern) && toRegExp(pattern).test(name));
}

/**
 * Is the requested capability within the profile entry? A literal request is covered when the
 * entry matches it. A wildcard request is covered only when it is the same pattern, or when the
 * entry is `prefix**` and the request's literal part starts with that prefix: deciding whether
 * one arbitrary glob contains another is not worth the risk of getting it wrong.
 */
export function covers(entry: string, requested: string): boolean {
  if (!hasWildcard(requested)) return matches(entry, requested);
  if (entry === requested) return true;
  if (entry.endsWith('**') && !hasWildcard(entry.slice(0, -2))) {
    const prefix = entry.slice(0, -2);
    const literal = requested.slice(0, requested.indexOf('*'));
    return literal.startsWith(prefix);
  }
  return false;
}

/** The requested capabilities no entry of the profile covers. */
export function uncovered(profile: readonly string[], requested: readonly string[]): string[] {
  return requested.filter((r) => !profile.some((e) => covers(e, r)));
}
