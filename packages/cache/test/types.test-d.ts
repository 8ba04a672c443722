import {
  type Cache,
  type CacheBackendError,
  type CacheHealth,
  createCache,
  createCacheFromEnv,
} from '@org/cache';
import { describe, expectTypeOf, it } from 'vitest';

// This project's type tests compile with `exactOptionalPropertyTypes: true`
// (tsconfig.typecheck.json), as a strict app would.
describe('public types', () => {
  it('takes an unset environment variable for optional options', () => {
    createCache({ redis: process.env['REDIS_URL'] });
    createCache({ redis: undefined, namespace: process.env['NS'], driver: undefined });
    createCache({ timeouts: { command: undefined, hard: undefined }, memory: { ttl: undefined } });
    createCacheFromEnv({ env: process.env, redis: process.env['REDIS_URL'] });
  });

  it('infers preset names from `presets` and accepts them, or durations, per call', () => {
    const cache = createCache({ presets: { session: '1m', pricing: 1_800_000 }, ttl: 'session' });
    expectTypeOf(cache).toEqualTypeOf<Cache<'session' | 'pricing'>>();
    void cache.set('k', 1, { ttl: 'session' });
    void cache.set('k', 1, { ttl: 'pricing' });
    void cache.set('k', 1, { ttl: 30_000 });
    void cache.set('k', 1, { ttl: '30s', grace: '1h' });
    void cache.set('k', 1, { ttl: undefined, grace: undefined, tags: undefined });
    // @ts-expect-error: not a preset
    void cache.set('k', 1, { ttl: 'sesion' });
    // @ts-expect-error: no built-in presets any more
    void createCache().set('k', 1, { ttl: 'contractor' });
    // @ts-expect-error: the default TTL names a preset of this cache, not a new one
    createCache({ presets: { session: '1m' }, ttl: 'sesion' });
    // @ts-expect-error: a preset is a Duration
    createCache({ presets: { session: '1 fortnight' } });
  });

  it('takes a per-call L1 TTL as a duration on set and getOrSet, and an outage journal bound', () => {
    const cache = createCache({ memory: { ttl: '30s' }, outageJournal: 500 });
    void cache.set('k', 1, { ttl: 60_000, memory: { ttl: 5_000 } });
    void cache.getOrSet('k', () => 1, { memory: { ttl: 0 }, timeouts: { soft: '50ms' } });
    // @ts-expect-error: a duration, not a preset name
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
    expectTypeOf(
      createCache().health({ signal: AbortSignal.timeout(100) }),
    ).resolves.toEqualTypeOf<CacheHealth>();
    expectTypeOf<CacheHealth>().toEqualTypeOf<{
      available: boolean;
      latencyMs: number;
      backend: string;
    }>();
  });

  it('types event payloads', () => {
    const off = createCache().on('hit', (e) => {
      expectTypeOf(e.tier).toEqualTypeOf<'l1' | 'l2'>();
    });
    expectTypeOf(off).toEqualTypeOf<() => void>();
    createCache().once('error', (e) => {
      expectTypeOf(e.error).toEqualTypeOf<CacheBackendError>();
      expectTypeOf(e.error.code).toBeString();
    });
  });
});
