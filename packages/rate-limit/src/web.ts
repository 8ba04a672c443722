import { checkMiddlewareOptions, decideRequest, type MiddlewareOptions } from './http/outcome.js';
import { ipKey } from './identify.js';
import type { RateLimiter } from './types.js';

export { type HeaderStyle, rateLimitHeaders } from './http/headers.js';
export type { MiddlewareOptions } from './http/outcome.js';

/** What {@link rateLimitWeb} decides: a response to send now, or headers to add to yours. */
export interface WebOutcome {
  /** Set when the request may not go ahead: send it as is (429, or 400/503). */
  response?: Response | undefined;
  /** The rate-limit headers, to copy onto the response of a request that goes ahead. */
  headers: Headers;
}

/**
 * A limiter for Web `Request`s (Next.js route handlers, Bun, Deno, Workers). A Web request
 * carries no client address: pass `key`, or `trustProxy` and the `proxyHeader` your platform
 * sets. Never rejects.
 */
export function rateLimitWeb(
  limiter: RateLimiter,
  options: MiddlewareOptions<Request>,
): (request: Request) => Promise<WebOutcome> {
  checkMiddlewareOptions(options, true);
  const byIp = (req: Request) => ipKey({ headers: Object.fromEntries(req.headers) }, options);
  return async (request) => {
    const out = await decideRequest(limiter, options, request, byIp);
    const headers = new Headers(out.headers);
    if (out.status === 0) return { headers };
    headers.set('content-type', 'application/json; charset=utf-8');
    return {
      headers,
      response: new Response(JSON.stringify(out.body), { status: out.status, headers }),
    };
  };
}

/**
 * Wraps a route handler (`export const GET = withRateLimit(limiter, { tier: 'read', key }, handler)`):
 * a refused request gets the 429 without calling `handler`; an allowed one gets the handler's
 * response with the rate-limit headers added.
 */
export function withRateLimit<Args extends unknown[]>(
  limiter: RateLimiter,
  options: MiddlewareOptions<Request>,
  handler: (request: Request, ...rest: Args) => Response | Promise<Response>,
): (request: Request, ...rest: Args) => Promise<Response> {
  const decide = rateLimitWeb(limiter, options);
  return async (request, ...rest) => {
    const out = await decide(request);
    if (out.response) return out.response;
    const res = await handler(request, ...rest);
    try {
      for (const [k, v] of out.headers) res.headers.set(k, v);
      return res;
    } catch {
      // Immutable headers (a fetched Response): copy it.
      const copy = new Response(res.body, res);
      for (const [k, v] of out.headers) copy.headers.set(k, v);
      return copy;
    }
  };
}

/** The parts of a Hono context the middleware uses. */
export interface HonoContextLike {
  req: { raw: Request };
  header(name: string, value: string): void;
}

/** Hono middleware: `app.use('/api/*', rateLimitHono(limiter, { tier: 'read', key }))`. */
export function rateLimitHono(
  limiter: RateLimiter,
  options: MiddlewareOptions<Request>,
): (c: HonoContextLike, next: () => Promise<void>) => Promise<Response | undefined> {
  const decide = rateLimitWeb(limiter, options);
  return async (c, next) => {
    const out = await decide(c.req.raw);
    if (out.response) return out.response;
    for (const [k, v] of out.headers) c.header(k, v);
    await next();
    return undefined;
  };
}
