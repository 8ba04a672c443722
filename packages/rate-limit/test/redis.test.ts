import { createRateLimiter } from '@org/rate-limit';
import { serverAvailable } from '@org/test-utils';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { limiterBehaviour } from './support/behaviour.js';
import { manualClock, uniquePrefix } from './support/clock.js';

const URL = 'redis://127.0.0.1:6379';

describe.runIf(await serverAvailable('Redis', 6379))('Redis store (127.0.0.1:6379)', () => {
  const app = new Redis(URL);
  afterAll(() => app.quit());

  describe('on a URL', () => {
    limiterBehaviour('redis', (o) => createRateLimiter({ ...o, redis: URL }));
  });
  describe("on the app's client", () => {
    limiterBehaviour('redis', (o) => createRateLimiter({ ...o, redis: app }));
  });

  it('keys are hash-tagged per client (one Cluster slot, one key per script)', async () => {
    const prefix = uniquePrefix('keys');
    const limiter = createRateLimiter({
      tiers: { read: { limit: 5, window: '1m' } },
      redis: app,
      prefix,
    });
    await limiter.limit('read', 'user:42');
    expect(await app.keys(`${prefix}*`)).toEqual([`${prefix}{read::user:42}`]);
    expect(await app.pttl(`${prefix}{read::user:42}`)).toBeGreaterThan(60_000);
    await limiter.close();
    expect(app.status).toBe('ready'); // the app's client is left open
  });

  it('a refused id costs no Redis call until its refusal ends', async () => {
    const client = new Redis(URL);
    const clock = manualClock();
    let calls = 0;
    const evalsha = client.evalsha.bind(client);
    client.evalsha = ((...args: Parameters<typeof evalsha>) => {
      calls++;
      return evalsha(...args);
    }) as typeof client.evalsha;
    const limiter = createRateLimiter({
      tiers: { auth: { limit: 2, window: '1m', blockFor: '15m', algorithm: 'fixed-window' } },
      redis: client,
      clock,
      prefix: uniquePrefix('blocked'),
    });
    for (let i = 0; i < 3; i++) await limiter.limit('auth', 'mallory');
    expect(calls).toBe(3);
    for (let i = 0; i < 100; i++) {
      const r = await limiter.limit('auth', 'mallory');
      expect(r).toMatchObject({ allowed: false, store: 'redis' });
    }
    expect(calls).toBe(3);
    clock.advance(900_000);
    expect((await limiter.limit('auth', 'mallory')).allowed).toBe(true);
    expect(calls).toBe(4);
    await limiter.close();
    await client.quit();
  });

  it('health() and check() report Redis', async () => {
    const limiter = createRateLimiter({ tiers: { t: { limit: 5, window: '1m' } }, redis: URL });
    await limiter.limit('t', 'x');
    expect(await limiter.health()).toMatchObject({ available: true, backend: 'redis' });
    expect(await limiter.check()).toEqual({ status: 'ok' });
    await limiter.close();
  });
});
