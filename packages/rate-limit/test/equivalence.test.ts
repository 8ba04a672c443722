import { createRateLimiter, type TierOptions } from '@org/rate-limit';
import { serverAvailable } from '@org/test-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manualClock, uniquePrefix } from './support/clock.js';

const ALGORITHMS = ['fixed-window', 'sliding-window', 'token-bucket'] as const;
const steps = fc.array(
  fc.record({ advance: fc.integer({ min: 0, max: 4_000 }), cost: fc.integer({ min: 1, max: 3 }) }),
  { minLength: 1, maxLength: 60 },
);

describe('properties of the algorithms (memory store, injected clock)', () => {
  it('sliding window never admits twice the limit in any window-long span; fixed never more than the limit per window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 300 }),
        async (gaps) => {
          const clock = manualClock();
          const W = 10_000;
          const L = 10;
          const limiter = createRateLimiter({
            tiers: {
              s: { limit: L, window: W, algorithm: 'sliding-window' },
              f: { limit: L, window: W, algorithm: 'fixed-window' },
            },
            clock,
          });
          const times: Record<'s' | 'f', number[]> = { s: [], f: [] };
          for (const g of gaps) {
            clock.advance(g);
            for (const t of ['s', 'f'] as const) {
              if ((await limiter.limit(t, 'x')).allowed) times[t].push(clock.now());
            }
          }
          for (let i = 0; i < times.s.length; i++) {
            const inSpan = times.s.filter((t) => t >= times.s[i]! && t < times.s[i]! + W).length;
            expect(inSpan).toBeLessThan(2 * L);
          }
          const perWindow = new Map<number, number>();
          for (const t of times.f)
            perWindow.set(Math.floor(t / W), (perWindow.get(Math.floor(t / W)) ?? 0) + 1);
          for (const n of perWindow.values()) expect(n).toBeLessThanOrEqual(L);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a token bucket admits no more than its capacity plus what refilled', async () => {
    await fc.assert(
      fc.asyncProperty(steps, async (s) => {
        const clock = manualClock();
        const limiter = createRateLimiter({
          tiers: { t: { limit: 5, window: '10s', refillRate: 2, algorithm: 'token-bucket' } },
          clock,
        });
        let spent = 0;
        for (const { advance, cost } of s) {
          clock.advance(advance);
          if ((await limiter.limit('t', 'x', { cost })).allowed) spent += cost;
        }
        const elapsed = clock.now() - clock.start;
        expect(spent).toBeLessThanOrEqual(5 + (2 * elapsed) / 10_000 + 1e-9);
      }),
      { numRuns: 200 },
    );
  });
});

describe.runIf(await serverAvailable('Redis', 6379))('memory and Redis answer alike', () => {
  it.each(ALGORITHMS)('%s: the same decisions for the same requests', async (algorithm) => {
    await fc.assert(
      fc.asyncProperty(steps, async (s) => {
        const clock = manualClock();
        const tiers: { t: TierOptions } = {
          t: { limit: 5, window: '10s', refillRate: 3, algorithm, blockFor: 0 },
        };
        const mem = createRateLimiter({ tiers, clock });
        const red = createRateLimiter({
          tiers,
          clock,
          redis: 'redis://127.0.0.1:6379',
          prefix: uniquePrefix('equiv'),
          blockedCacheSize: 0,
          timeout: '2s',
        });
        try {
          for (const { advance, cost } of s) {
            clock.advance(advance);
            const a = await mem.limit('t', 'x', { cost });
            const b = await red.limit('t', 'x', { cost });
            expect({ ...b, store: 'memory' }).toEqual(a);
          }
        } finally {
          await red.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});
