import { createRateLimiter, isRateLimitError, RateLimitErrorCode } from '@org/rate-limit';
import { describe, expect, it } from 'vitest';

const bad = (fn: () => unknown, what: RegExp) => {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(isRateLimitError(caught, RateLimitErrorCode.InvalidOption)).toBe(true);
  expect((caught as Error).message).toMatch(what);
};

describe('options', () => {
  it('refuses bad options at once, naming the option', () => {
    bad(() => createRateLimiter({ tiers: {} }), /tiers/);
    bad(() => createRateLimiter({ tiers: { a: { limit: 0, window: '1m' } } }), /tiers\.a\.limit/);
    bad(() => createRateLimiter({ tiers: { a: { limit: 5, window: '60' as never } } }), /window/);
    bad(
      () =>
        createRateLimiter({
          tiers: { a: { limit: 5, window: '1m', algorithm: 'leaky' as never } },
        }),
      /algorithm/,
    );
    bad(
      () =>
        createRateLimiter({
          tiers: { a: { limit: 5, window: '1m', failurePolicy: 'maybe' as never } },
        }),
      /failurePolicy/,
    );
    bad(
      () => createRateLimiter({ tiers: { a: { limit: 5, window: '1m' } }, redis: 'http://x' }),
      /redis/,
    );
    bad(
      () => createRateLimiter({ tiers: { a: { limit: 5, window: '1m' } }, timeout: -1 }),
      /timeout/,
    );
  });

  it('a window is a Duration: a number is milliseconds', async () => {
    const limiter = createRateLimiter({ tiers: { a: { limit: 1, window: 1500 } } });
    expect((await limiter.limit('a', 'x')).windowMs).toBe(1500);
    expect(limiter.tier('a')).toMatchObject({
      windowMs: 1500,
      algorithm: 'sliding-window',
      failurePolicy: 'local',
    });
  });

  it('an unknown tier, an empty id or a cost over the limit reject with a RateLimitError', async () => {
    const limiter = createRateLimiter({ tiers: { a: { limit: 5, window: '1m' } } });
    await expect(limiter.limit('b' as 'a', 'x')).rejects.toMatchObject({
      code: RateLimitErrorCode.UnknownTier,
    });
    await expect(limiter.limit('a', '')).rejects.toMatchObject({
      code: RateLimitErrorCode.InvalidOption,
    });
    await expect(limiter.limit('a', 'x', { cost: 6 })).rejects.toMatchObject({
      code: RateLimitErrorCode.InvalidOption,
    });
  });

  it('an aborted signal rejects with core AbortedError', async () => {
    const limiter = createRateLimiter({ tiers: { a: { limit: 5, window: '1m' } } });
    await expect(limiter.limit('a', 'x', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
  });

  it('close() is idempotent', async () => {
    const limiter = createRateLimiter({ tiers: { a: { limit: 5, window: '1m' } } });
    await limiter.close();
    await limiter.close();
  });
});
