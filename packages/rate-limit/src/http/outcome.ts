import { describeError, isOrgError } from '@org/core';
import { invalidOption, isRateLimitError, RateLimitErrorCode } from '../errors.js';
import type { TrustProxyOptions } from '../identify.js';
import type { RateLimiter, RateLimitResult } from '../types.js';
import { type HeaderStyle, rateLimitHeaders } from './headers.js';

/** Options shared by every HTTP adapter; `Req` is the framework's request. */
export interface MiddlewareOptions<Req> extends TrustProxyOptions {
  /** The tier of a request: a name, or a function of the request (`undefined` skips limiting). */
  tier: string | ((req: Req) => string | undefined);
  /**
   * The client's id. @default the client address, grouped by /64 for IPv6 (see `ipKey`), read
   * as `trustProxy` says
   */
  key?: ((req: Req) => string | undefined | Promise<string | undefined>) | undefined;
  /** A route override of the tier for this request (a key of the tier's `routes`). */
  route?: ((req: Req) => string | undefined) | undefined;
  /** What the request costs. @default the tier's `cost` */
  cost?: number | ((req: Req) => number) | undefined;
  /** Which rate-limit headers to send. @default 'draft' */
  headers?: HeaderStyle | undefined;
}

/** What an adapter does with a request: let it through (with headers) or answer it. */
export interface Outcome {
  /** 0 to let the request through; else the status to answer with (400, 429, 500 or 503). */
  status: 0 | 400 | 429 | 500 | 503;
  headers: [string, string][];
  body?: { error: string; code: string; retryAfterMs?: number } | undefined;
  result?: RateLimitResult | undefined;
}

const PASS: Outcome = { status: 0, headers: [] };

/** Checks options every adapter shares; a `key` is required where no address is known. */
export function checkMiddlewareOptions<Req>(o: MiddlewareOptions<Req>, needsKey: boolean): void {
  if (typeof o !== 'object' || o === null) throw invalidOption('middleware options are required');
  if (typeof o.tier !== 'string' && typeof o.tier !== 'function') {
    throw invalidOption('`tier` must be a tier name or a function of the request');
  }
  if (needsKey && o.key === undefined && !o.trustProxy) {
    throw invalidOption(
      'a Web Request carries no client address: pass `key`, or `trustProxy` with the `proxyHeader` your platform sets',
    );
  }
}

/**
 * Decides one request; never throws. A request whose id cannot be read gets a 400, a tier that
 * cannot be counted (Redis down, `failurePolicy: 'closed'`) a 503, both with a JSON body whose
 * `code` says which.
 */
export async function decideRequest<Req>(
  limiter: RateLimiter,
  o: MiddlewareOptions<Req>,
  req: Req,
  defaultKey: (req: Req) => string | undefined,
): Promise<Outcome> {
  try {
    const tier = typeof o.tier === 'function' ? o.tier(req) : o.tier;
    if (tier === undefined) return PASS;
    const id = o.key ? await o.key(req) : defaultKey(req);
    if (id === undefined || id === '') {
      return {
        status: 400,
        headers: [],
        body: { error: 'The client could not be identified.', code: RateLimitErrorCode.NoKey },
      };
    }
    const result = await limiter.limit(tier, id, {
      route: o.route?.(req),
      cost: typeof o.cost === 'function' ? o.cost(req) : o.cost,
    });
    const headers = rateLimitHeaders(result, o.headers ?? 'draft');
    if (result.allowed) return { status: 0, headers, result };
    const secs = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
    return {
      status: 429,
      headers,
      result,
      body: {
        error: `Too many requests: retry in ${secs} s.`,
        code: RateLimitErrorCode.Limited,
        retryAfterMs: result.retryAfterMs,
      },
    };
  } catch (err) {
    if (isRateLimitError(err, RateLimitErrorCode.Unavailable)) {
      return {
        status: 503,
        headers: [['Retry-After', '1']],
        body: { error: 'Rate limiting is unavailable; retry shortly.', code: err.code },
      };
    }
    const code = isOrgError(err) ? err.code : 'ERR_RATE_LIMIT_INTERNAL';
    return {
      status: 500,
      headers: [],
      body: { error: `The rate limiter failed: ${describeError(err, 120)}`, code },
    };
  }
}
