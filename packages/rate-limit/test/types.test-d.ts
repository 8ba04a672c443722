import {
  createRateLimiter,
  defineTiers,
  type RateLimiter,
  type RateLimitResult,
  rateLimitNode,
} from '@org/rate-limit';
import { rateLimitExpress } from '@org/rate-limit/express';
import { describe, expectTypeOf, it } from 'vitest';

describe('public types', () => {
  const limiter = createRateLimiter({
    tiers: { auth: { limit: 5, window: '1m' }, read: { limit: 120, window: 60_000 } },
  });

  it('tier names are the keys of `tiers`', () => {
    expectTypeOf(limiter).toEqualTypeOf<RateLimiter<'auth' | 'read'>>();
    expectTypeOf(limiter.limit('auth', 'user:1')).resolves.toEqualTypeOf<RateLimitResult>();
    // @ts-expect-error: no such tier
    void limiter.limit('write', 'user:1');
  });

  it('a window is a Duration: a unit-less string is refused', () => {
    // @ts-expect-error: '60' could be seconds or milliseconds
    createRateLimiter({ tiers: { a: { limit: 1, window: '60' } } });
    defineTiers({ a: { limit: 1, window: '1.5h' } });
  });

  it('a typed limiter fits every adapter', () => {
    rateLimitNode(limiter, { tier: 'read' });
    rateLimitExpress(limiter, { tier: (req) => (req.method === 'GET' ? 'read' : undefined) });
  });
});
