import { WardenError } from '../errors/warden-error.js';
import { removeQueryParams } from './inject-credentials.js';
import { checkPath } from './path-policy.js';

/** What a redirect is judged against. */
export interface RedirectContext {
  readonly status: number;
  /** The URL the request went to: a relative `Location` resolves against it (RFC 9110 §10.2.2). */
  readonly requestUrl: URL;
  /** The upstream's base URL: the target must share its origin and sit under its path. */
  readonly baseUrl: URL;
  readonly pathPrefixes: readonly string[];
  /** Where the upstream is mounted for the agent, e.g. `/proxy/github`. */
  readonly proxyBase: string;
  /** Injected query parameters, removed from the rewritten location so it cannot leak them. */
  readonly injectedParams: readonly string[];
}

/** True for a response that sends the client elsewhere (304 only revalidates a cache). */
export const isRedirect = (status: number): boolean => status >= 300 && status < 400 && status !== 304;

/** Where a `Location` points as the agent sees it, or why it leaves the upstream. */
type Located = { readonly within: true; readonly location: string } | { readonly within: false; readonly reason: string };

function locate(location: string, ctx: RedirectContext): Located {
  let target: URL;
  try {
    target = new URL(location, ctx.requestUrl);
  } catch {
    return { within: false, reason: 'invalid-location' };
  }
  if (target.origin !== ctx.baseUrl.origin || target.username || target.password) return { within: false, reason: 'other-origin' };
  const basePath = ctx.baseUrl.pathname.replace(/\/+$/, '');
  if (basePath && target.pathname !== basePath && !target.pathname.startsWith(`${basePath}/`)) return { within: false, reason: 'outside-base-path' };
  let path: string;
  try {
    ({ path } = checkPath(target.pathname.slice(basePath.length), ctx.pathPrefixes));
  } catch {
    return { within: false, reason: 'path-not-allowed' };
  }
  const query = removeQueryParams(target.search.slice(1), ctx.injectedParams);
  return { within: true, location: `${ctx.proxyBase}${path}${query ? `?${query}` : ''}${target.hash}` };
}

/**
 * Warden never follows a redirect itself: following one would connect somewhere no check
 * looked at. A `Location` that stays within the upstream (same origin, under the base path,
 * on an allowed prefix) is rewritten to the agent's `/proxy/<name>/…` view of it, so the
 * agent's next request goes through every check again. Any other target is refused.
 *
 * @throws WardenError `EGRESS_REDIRECT_BLOCKED` (details: status and reason; never the
 *   location, which may carry a pre-signed URL's credentials).
 */
export function rewriteRedirect(location: string | readonly string[], ctx: RedirectContext): string {
  // Two Location fields are not a redirect anyone can follow (RFC 9110 §10.2.2: one URI).
  const located = typeof location === 'string' ? locate(location, ctx) : { within: false as const, reason: 'invalid-location' };
  if (!located.within) throw new WardenError('EGRESS_REDIRECT_BLOCKED', { status: ctx.status, reason: located.reason });
  return located.location;
}

/**
 * The `Location` of a response that is not a redirect (a 201 names the resource it created):
 * rewritten like a redirect when it points within the upstream, passed on unchanged when not,
 * since nothing follows it.
 */
export function rewriteLocation(location: string | readonly string[], ctx: RedirectContext): string | readonly string[] {
  if (typeof location !== 'string') return location;
  const located = locate(location, ctx);
  return located.within ? located.location : location;
}
