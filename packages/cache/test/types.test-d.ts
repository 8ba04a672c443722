import { type CacheHealth, createCache } from '@org/cache';
import { describe, expectTypeOf, it } from 'vitest';

describe('public types', () => {
  it('infers preset names from `ttl` and accepts them per call', () => {
    const cache = createCache({ ttl: { session: 60 } });
    void cache.set('k', 1, { ttl: 'session' });
    void cache.set('k', 1, { ttl: 'pricing' });
    void cache.set('k', 1, { ttl: 30 });
    // @ts-expect-error: not a preset
    void cache.set('k', 1, { ttl: 'sesion' });
  });

  it('takes a per-call L1 TTL in seconds on set and getOrSet, and an outage journal bound', () => {
    const cache = createCache({ memory: { ttl: 30 }, outageJournal: 500 });
    void cache.set('k', 1, { ttl: 60, memory: { ttl: 5 } });
    void cache.getOrSet('k', () => 1, { memory: { ttl: 0 } });
    // @ts-expect-error: seconds, not a preset name
    void cache.set('k', 1, { memory: { ttl: 'session' } });
    // @ts-expect-error: `memory: false` is a cache-wide setting only
    void cache.set('k', 1, { memory: false });
  });

  it('types get and getOrSet by the caller or the loader', () => {
    const cache = createCache();
    expectTypeOf(cache.get<{ id: number }>('k')).resolves.toEqualTypeOf<
      { id: number } | undefined
    >();
    expectTypeOf(cache.getOrSet('k', async () => ({ id: 1 }))).resolves.toEqualTypeOf<{
      id: number;
    }>();
    expectTypeOf(cache.getOrSet('k', ({ signal }) => signal.aborted)).resolves.toBeBoolean();
  });

  it('gives health() the shape @org/health checks', () => {
    expectTypeOf(createCache().health()).resolves.toEqualTypeOf<CacheHealth>();
    expectTypeOf<CacheHealth>().toEqualTypeOf<{
      available: boolean;
      latencyMs: number;
      backend: string;
    }>();
  });

  it('types event payloads', () => {
    createCache().on('hit', (e) => {
      expectTypeOf(e.tier).toEqualTypeOf<'l1' | 'l2'>();
    });
    createCache().on('error', (e) => {
      expectTypeOf(e.error.code).toBeString();
    });
  });
});
