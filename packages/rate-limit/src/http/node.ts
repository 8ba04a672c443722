import { ipKey, type RequestLike } from '../identify.js';
import type { RateLimiter } from '../types.js';
import { checkMiddlewareOptions, decideRequest, type MiddlewareOptions } from './outcome.js';

/** The parts of a node:http `ServerResponse` the middleware uses. */
export interface ResponseLike {
  headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  writeHead(status: number, headers?: Record<string, string>): unknown;
  end(body?: string): unknown;
}

/**
 * A guard for a node:http server: `if (!(await guard(req, res))) return;` at the top of the
 * listener. It sets the rate-limit headers, and when the request may not go ahead answers it
 * (429, or 400/503, with a JSON body) and resolves false. It never rejects.
 */
export function rateLimitNode<Req extends RequestLike = RequestLike>(
  limiter: RateLimiter,
  options: MiddlewareOptions<Req>,
): (req: Req, res: ResponseLike) => Promise<boolean> {
  checkMiddlewareOptions(options, false);
  const byIp = (req: Req) => ipKey(req, options);
  return async (req, res) => {
    const out = await decideRequest(limiter, options, req, byIp);
    if (res.headersSent) return out.status === 0;
    try {
      for (const [k, v] of out.headers) res.setHeader(k, v);
      if (out.status === 0) return true;
      res.writeHead(out.status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(`${JSON.stringify(out.body)}\n`);
    } catch {
      // The socket went away under us: nothing left to answer.
    }
    return false;
  };
}
