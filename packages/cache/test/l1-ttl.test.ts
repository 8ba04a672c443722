import { createCache, createMemoryDriver, isCacheError } from '@org/cache';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

describe('per-call L1 TTL (`memory.ttl` of set and getOrSet)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  // L2 changed behind the cache's back shows when L1 let go of its copy.
  const setup = (memoryTtl?: number) => {
    const driver = createMemoryDriver();
    const cache = createCache({
      driver,
      namespace: 'l1ttl',
      jitter: 0,
      invalidation: false,
      memory: memoryTtl === undefined ? {} : { ttl: memoryTtl },
    });
    const behindItsBack = (key: string, json: string) =>
      driver.set(`l1ttl:v:${key}`, `${Date.now() + 600_000}|600000|${json}`);
    return { cache, behindItsBack };
  };

  it('set: a shorter per-call L1 TTL than the cache-wide one', async () => {
    const { cache, behindItsBack } = setup(60_000);
    await cache.set('short', 'v', { ttl: '300s', memory: { ttl: '2s' } });
    await cache.set('default', 'v', { ttl: '300s' });
    await behindItsBack('short', '"L2"');
    await behindItsBack('default', '"L2"');
    vi.advanceTimersByTime(1_999);
    expect(await cache.get('short')).toBe('v');
    vi.advanceTimersByTime(2);
    expect(await cache.get('short')).toBe('L2');
    expect(await cache.get('default')).toBe('v');
  });

  it('set: a longer per-call L1 TTL than the cache-wide one, still capped by the entry TTL', async () => {
    const { cache, behindItsBack } = setup(1_000);
    await cache.set('long', 'v', { ttl: 10_000, memory: { ttl: 30_000 } });
    await behindItsBack('long', '"L2"');
    vi.advanceTimersByTime(5_000);
    expect(await cache.get('long')).toBe('v');
    vi.advanceTimersByTime(5_001);
    expect(await cache.get('long')).toBe('L2');
  });

  it('`memory: { ttl: 0 }` keeps the entry out of L1', async () => {
    const { cache, behindItsBack } = setup();
    await cache.set('k', 'v', { memory: { ttl: 0 } });
    await behindItsBack('k', '"L2"');
    expect(await cache.get('k')).toBe('L2');
  });

  it('getOrSet: applies to the loaded value and to an L1 fill from L2', async () => {
    const { cache, behindItsBack } = setup(60_000);
    const opts = { ttl: '300s', memory: { ttl: '2s' } } as const;
    expect(await cache.getOrSet('loaded', () => 'v', opts)).toBe('v');
    await behindItsBack('filled', '"from L2"');
    expect(await cache.getOrSet('filled', () => 'not called', opts)).toBe('from L2');
    await behindItsBack('loaded', '"L2 loaded"');
    await behindItsBack('filled', '"L2 filled"');
    expect(await cache.getOrSet('loaded', () => 'not called', opts)).toBe('v');
    expect(await cache.getOrSet('filled', () => 'not called', opts)).toBe('from L2');
    vi.advanceTimersByTime(2_001);
    expect(await cache.getOrSet('loaded', () => 'not called', opts)).toBe('L2 loaded');
    expect(await cache.getOrSet('filled', () => 'not called', opts)).toBe('L2 filled');
  });

  it('refuses a bad per-call L1 TTL with ERR_CACHE_INVALID_OPTION, also on an L1 hit', async () => {
    const { cache } = setup();
    await cache.set('k', 1);
    for (const memory of [{ ttl: -1 }, { ttl: Number.NaN }, { ttl: '5' }, 5, null]) {
      const bad = { memory } as unknown as { memory: { ttl: number } };
      await expect(cache.set('k', 1, bad)).rejects.toSatisfy((e) =>
        isCacheError(e, 'ERR_CACHE_INVALID_OPTION'),
      );
      await expect(cache.getOrSet('k', () => 1, bad)).rejects.toSatisfy((e) =>
        isCacheError(e, 'ERR_CACHE_INVALID_OPTION'),
      );
    }
    expect(await cache.get('k')).toBe(1);
  });
});
