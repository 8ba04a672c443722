import { checkMiddlewareOptions, decideRequest, type MiddlewareOptions } from './http/outcome.js';
import type { RequestLike } from './identify.js';
import { ipId } from './ip.js';
import type { RateLimiter } from './types.js';

export type { HeaderStyle } from './http/headers.js';
export type { MiddlewareOptions } from './http/outcome.js';

/** The parts of an Express request the middleware reads (`ip` honours Express's `trust proxy`). */
export interface ExpressRequestLike extends RequestLike {
  ip?: string | undefined;
}

/** The parts of an Express response the middleware uses. */
export interface ExpressResponseLike {
  headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  status(code: number): { json(body: unknown): unknown };
}

/**
 * Express middleware (4 and 5): `app.use(rateLimitExpress(limiter, { tier: 'read' }))`. By
 * default the client is `req.ip`, so Express's own `trust proxy` setting decides which proxies
 * are believed (grouped by /64 for IPv6). A refused request gets a 429 (or 400/503) with a JSON
 * body and `Retry-After`; `next` is called only for a request that may go ahead.
 */
export function rateLimitExpress<Req extends ExpressRequestLike = ExpressRequestLike>(
  limiter: RateLimiter,
  options: MiddlewareOptions<Req>,
): (req: Req, res: ExpressResponseLike, next: (err?: unknown) => void) => void {
  checkMiddlewareOptions(options, false);
  const byIp = (req: Req) => ipId(req.ip ?? req.socket?.remoteAddress, options.ipv6Subnet ?? 64);
  return (req, res, next) => {
    void decideRequest(limiter, options, req, byIp).then((out) => {
      if (res.headersSent) return;
      try {
        for (const [k, v] of out.headers) res.setHeader(k, v);
        if (out.status === 0) return next();
        res.status(out.status).json(out.body);
      } catch (err) {
        next(err);
      }
    });
  };
}
