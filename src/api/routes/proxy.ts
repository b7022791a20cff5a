import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HTTP_METHODS } from '../../egress/upstream-config.js';
import type { ApiContext } from '../context.js';

/**
 * `/proxy/<upstream>/<path>`: agents' HTTP requests to declared upstreams. Bodies are taken as
 * raw bytes whatever their type (the upstream, not Warden, interprets them), in a plugin of
 * their own so the rest of the API keeps its strict content types.
 */
export function proxyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const proxy = ctx.proxy;
  if (!proxy) return;
  void app.register(async (child) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: proxy.maxRequestBytes }, (_req, body, done) => done(null, body));
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const [pathname = '', search] = splitUrl(request.url);
      const rest = pathname.slice('/proxy/'.length);
      const slash = rest.indexOf('/');
      const upstream = slash < 0 ? rest : rest.slice(0, slash);
      const path = slash < 0 ? '/' : rest.slice(slash);
      const cred = await ctx.requests.verify({
        authorization: request.headers.authorization,
        dpop: request.headers.dpop,
        method: request.method,
        url: new URL(`${ctx.urls.base}${pathname}`),
      });
      const res = await proxy.handle(cred, {
        upstream,
        method: request.method,
        path,
        query: search ?? '',
        headers: request.headers,
        body: Buffer.isBuffer(request.body) ? request.body : undefined,
      });
      return reply.code(res.status).headers(res.headers).send(res.body);
    };
    const config = { allowNul: true };
    child.route({ method: [...HTTP_METHODS], url: '/proxy/:upstream', config, handler });
    child.route({ method: [...HTTP_METHODS], url: '/proxy/:upstream/*', config, handler });
  });
}

function splitUrl(url: string): [string, string | undefined] {
  const q = url.indexOf('?');
  return q < 0 ? [url, undefined] : [url.slice(0, q), url.slice(q + 1)];
}
