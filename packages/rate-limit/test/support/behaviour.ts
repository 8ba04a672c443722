import type { createRateLimiter, RateLimiterOptions } from '@org/rate-limit';
import { expect, it } from 'vitest';
import { manualClock, uniquePrefix } from './clock.js';

type Make = (
  o: Omit<RateLimiterOptions<'t'>, 'redis'>,
) => ReturnType<typeof createRateLimiter<'t'>>;

/**
 * The behaviour every store must show, with an injected clock: run against memory and Redis.
 * `make` builds a limiter on the store under test.
 */
export function limiterBehaviour(store: 'memory' | 'redis', make: Make): void {
  const setup = (tier: RateLimiterOptions<'t'>['tiers']['t']) => {
    const clock = manualClock();
    const limiter = make({ tiers: { t: tier }, clock, prefix: uniquePrefix(store) });
    const hit = async (n: number, id = 'a') => {
      let ok = 0;
      for (let i = 0; i < n; i++) if ((await limiter.limit('t', id)).allowed) ok++;
      return ok;
    };
    return { clock, limiter, hit };
  };

  it('fixed window: the limit per window, a fresh count at the boundary', async () => {
    const { clock, limiter, hit } = setup({ limit: 5, window: '1m', algorithm: 'fixed-window' });
    const first = await limiter.limit('t', 'a');
    expect(first).toMatchObject({ allowed: true, remaining: 4, limit: 5, resetMs: 60_000, store });
    expect(await hit(10)).toBe(4);
    const refused = await limiter.limit('t', 'a');
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 60_000 });
    clock.advance(59_999);
    expect((await limiter.limit('t', 'a')).retryAfterMs).toBe(1);
    clock.advance(1);
    expect(await hit(10)).toBe(5);
    expect(await hit(3, 'b')).toBe(3);
    await limiter.close();
  });

  it('sliding window: never twice the limit across a boundary; the old window fades', async () => {
    const { clock, limiter, hit } = setup({ limit: 10, window: '1m', algorithm: 'sliding-window' });
    clock.advance(59_000); // all ten at the end of a window
    expect(await hit(20)).toBe(10);
    clock.advance(1_000); // the next window: the last one still weighs ~100 %
    expect(await hit(20)).toBe(0);
    const r = await limiter.limit('t', 'a');
    expect(r.allowed).toBe(false);
    expect(r.retryAfterMs).toBeGreaterThan(0);
    clock.advance(r.retryAfterMs);
    expect(await hit(1)).toBe(1);
    clock.advance(30_000); // halfway: about half of the previous window still counts
    const admitted = await hit(20);
    expect(admitted).toBeGreaterThanOrEqual(3);
    expect(admitted).toBeLessThanOrEqual(5);
    clock.advance(120_000);
    expect(await hit(20)).toBe(10);
    await limiter.close();
  });

  it('token bucket: a burst of `limit`, then `refillRate` per window', async () => {
    const { clock, limiter, hit } = setup({
      limit: 10,
      window: '10s',
      refillRate: 5,
      algorithm: 'token-bucket',
    });
    expect(await hit(20)).toBe(10);
    const r = await limiter.limit('t', 'a');
    expect(r.retryAfterMs).toBe(2_000); // 5 tokens per 10 s: one every 2 s
    clock.advance(2_000);
    expect(await hit(5)).toBe(1);
    clock.advance(10_000);
    expect(await hit(20)).toBe(5);
    clock.advance(60_000);
    expect(await hit(20)).toBe(10);
    await limiter.close();
  });

  it('cost: a request may cost several units; peek counts nothing', async () => {
    const { limiter } = setup({ limit: 10, window: '1m', algorithm: 'fixed-window' });
    expect(await limiter.limit('t', 'a', { cost: 7 })).toMatchObject({
      allowed: true,
      remaining: 3,
    });
    expect(await limiter.peek('t', 'a', { cost: 3 })).toMatchObject({
      allowed: true,
      remaining: 0,
    });
    expect(await limiter.peek('t', 'a', { cost: 4 })).toMatchObject({ allowed: false });
    expect(await limiter.limit('t', 'a', { cost: 4 })).toMatchObject({
      allowed: false,
      remaining: 3,
    });
    expect(await limiter.limit('t', 'a', { cost: 3 })).toMatchObject({
      allowed: true,
      remaining: 0,
    });
    await limiter.close();
  });

  it('blockFor: a refusal locks the id out for the block, then it starts afresh', async () => {
    const { clock, limiter, hit } = setup({
      limit: 3,
      window: '1m',
      algorithm: 'fixed-window',
      blockFor: '15m',
    });
    expect(await hit(3)).toBe(3);
    const r = await limiter.limit('t', 'a');
    expect(r).toMatchObject({ allowed: false, retryAfterMs: 900_000 });
    clock.advance(120_000); // the window is long over, the block is not
    expect(await limiter.limit('t', 'a')).toMatchObject({ allowed: false, retryAfterMs: 780_000 });
    clock.advance(780_000);
    expect(await hit(5)).toBe(3);
    await limiter.close();
  });

  it('reset() forgets an id; route overrides count apart', async () => {
    const clock = manualClock();
    const limiter = make({
      clock,
      prefix: uniquePrefix(store),
      tiers: { t: { limit: 2, window: '1m', routes: { 'POST /login': { limit: 1 } } } },
    });
    expect((await limiter.limit('t', 'a')).allowed).toBe(true);
    expect((await limiter.limit('t', 'a')).allowed).toBe(true);
    expect((await limiter.limit('t', 'a')).allowed).toBe(false);
    const login = await limiter.limit('t', 'a', { route: 'POST /login' });
    expect(login).toMatchObject({ allowed: true, limit: 1, route: 'POST /login' });
    expect((await limiter.limit('t', 'a', { route: 'POST /login' })).allowed).toBe(false);
    await limiter.reset('t', 'a');
    expect((await limiter.limit('t', 'a')).allowed).toBe(true);
    await limiter.close();
  });
}
