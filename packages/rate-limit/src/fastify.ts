import { checkMiddlewareOptions, decideRequest, type MiddlewareOptions } from './http/outcome.js';
import type { RequestLike } from './identify.js';
import { ipId } from './ip.js';
import type { RateLimiter } from './types.js';

export type { HeaderStyle } from './http/headers.js';
export type { MiddlewareOptions } from './http/outcome.js';

/** The parts of a Fastify request the hook reads (`ip` honours Fastify's `trustProxy`). */
export interface FastifyRequestLike {
  method?: string | undefined;
  url?: string | undefined;
  ip?: string | undefined;
  headers: RequestLike['headers'];
  raw?: RequestLike | undefined;
}

/** The parts of a Fastify reply the hook uses. */
export interface FastifyReplyLike {
  sent?: boolean;
  header(name: string, value: string): unknown;
  code(status: number): { send(body: unknown): unknown };
}

/**
 * A Fastify `onRequest` hook (v4 and v5):
 * `app.addHook('onRequest', rateLimitFastify(limiter, { tier: 'read' }))`. By default the
 * client is `request.ip`, so Fastify's `trustProxy` decides which proxies are believed. A refused
 * request is answered 429 (or 400/503) with a JSON body and `Retry-After`.
 */
export function rateLimitFastify<Req extends FastifyRequestLike = FastifyRequestLike>(
  limiter: RateLimiter,
  options: MiddlewareOptions<Req>,
): (request: Req, reply: FastifyReplyLike) => Promise<unknown> {
  checkMiddlewareOptions(options, false);
  const byIp = (req: Req) =>
    ipId(req.ip ?? req.raw?.socket?.remoteAddress, options.ipv6Subnet ?? 64);
  return async (request, reply) => {
    const out = await decideRequest(limiter, options, request, byIp);
    if (reply.sent) return undefined;
    for (const [k, v] of out.headers) reply.header(k, v);
    // Returning the reply tells Fastify the request was answered.
    if (out.status !== 0) return reply.code(out.status).send(out.body);
    return undefined;
  };
}
