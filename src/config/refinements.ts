import type { z } from 'zod';

/** A list refinement: each item's `name` once (they key something: a namespace, a cursor). */
export function uniqueNames(what: string) {
  return (list: readonly { name: string }[], ctx: z.RefinementCtx): void => {
    const seen = new Set<string>();
    list.forEach((item, i) => {
      if (seen.has(item.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate ${what} name` });
      seen.add(item.name);
    });
  };
}

/**
 * A string refinement: an absolute http(s) URL without user or password (they belong in the
 * secret store, and URLs are shown in status and logs) or fragment; `query: false` also refuses
 * a query string.
 */
export function httpUrl(opts: { query: boolean }) {
  return (text: string, ctx: z.RefinementCtx): void => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'an absolute URL' });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'http or https' });
    if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'no user or password in the URL; credentials come from the secret store' });
    if (url.hash) ctx.addIssue({ code: 'custom', message: 'no fragment' });
    if (!opts.query && url.search) ctx.addIssue({ code: 'custom', message: 'no query' });
  };
}
