import { createMemoryStore, createRateLimiter } from '@org/rate-limit';
import { describe, expect, it } from 'vitest';
import { limiterBehaviour } from './support/behaviour.js';

describe('memory store', () => {
  limiterBehaviour('memory', (o) => createRateLimiter(o));

  it('is bounded: past maxKeys the least recently active key is forgotten', () => {
    const store = createMemoryStore({ maxKeys: 3 });
    const rule = {
      tier: 't',
      route: undefined,
      limit: 1,
      windowMs: 60_000,
      algorithm: 'fixed-window',
      refillRate: 1,
      cost: 1,
      blockForMs: 0,
      failurePolicy: 'local',
    } as const;
    const ok = (k: string, t: number) => store.consume(k, rule, 1, t).allowed;
    for (const k of ['a', 'b', 'c']) expect(ok(k, 0)).toBe(true);
    // Recency is refreshed once per window: a is active again in the next one.
    expect(ok('a', 60_000)).toBe(true); // order b, c, a
    expect(ok('d', 60_000)).toBe(true); // evicts b: c, a, d
    expect(store.size).toBe(3);
    expect(ok('a', 60_000)).toBe(false); // a is still counted
    expect(ok('c', 60_000)).toBe(true); // order a, d, c
    expect(ok('b', 60_000)).toBe(true); // evicts a
    expect(ok('a', 60_000)).toBe(true); // a was forgotten: it starts afresh
    expect(store.size).toBe(3);
  });

  it('keys are per rule; the bound holds across rules', () => {
    const store = createMemoryStore({ maxKeys: 2 });
    const base = {
      route: undefined,
      limit: 1,
      windowMs: 60_000,
      algorithm: 'fixed-window',
      refillRate: 1,
      cost: 1,
      blockForMs: 0,
      failurePolicy: 'local',
    } as const;
    const a = { ...base, tier: 'a' };
    const b = { ...base, tier: 'b' };
    expect(store.consume('x', a, 1, 0).allowed).toBe(true);
    expect(store.consume('x', b, 1, 0).allowed).toBe(true); // another rule: counted apart
    expect(store.consume('x', a, 1, 0).allowed).toBe(false);
    expect(store.consume('y', b, 1, 0).allowed).toBe(true); // evicts b's x (its own oldest)
    expect(store.size).toBe(2);
    expect(store.consume('x', b, 1, 0).allowed).toBe(true); // evicts b's y
    expect(store.consume('x', a, 1, 0).allowed).toBe(false); // a's x was kept
    expect(store.size).toBe(2);
  });

  it('allow and deny lists decide without counting, by id, address or CIDR', async () => {
    const limiter = createRateLimiter({
      tiers: { t: { limit: 1, window: '1m' } },
      allow: ['10.0.0.0/8', 'user:admin'],
      deny: ['2001:db8::/32', '198.51.100.7'],
    });
    for (let i = 0; i < 3; i++) {
      expect(await limiter.limit('t', '10.1.2.3')).toMatchObject({
        allowed: true,
        listed: 'allow',
      });
      expect(await limiter.limit('t', 'user:admin')).toMatchObject({ allowed: true });
    }
    expect(await limiter.limit('t', '2001:db8:1:2::/64')).toMatchObject({
      allowed: false,
      listed: 'deny',
    });
    expect((await limiter.limit('t', '198.51.100.7')).allowed).toBe(false);
    expect((await limiter.limit('t', '198.51.100.8')).allowed).toBe(true);
    await limiter.close();
  });
});
