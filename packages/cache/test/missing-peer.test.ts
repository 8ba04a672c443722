import { createCache, isCacheError } from '@org/cache';
import { describe, expect, it, vi } from 'vitest';

// As if the optional peer were not installed.
vi.mock('ioredis', () => {
  throw new Error("Cannot find package 'ioredis' imported from @org/cache");
});

describe('redis URL without ioredis installed', () => {
  it('reports ERR_CACHE_MISSING_PEER and works on memory and the loader', async () => {
    const cache = createCache({ redis: 'redis://127.0.0.1:6379' });
    const errors: unknown[] = [];
    cache.on('error', (e) => errors.push(e.error));
    expect(await cache.getOrSet('k', () => 'loaded')).toBe('loaded');
    expect(await cache.get('k')).toBe('loaded');
    expect(errors.some((e) => isCacheError(e, 'ERR_CACHE_MISSING_PEER'))).toBe(true);
    expect((await cache.health()).available).toBe(false);
    await cache.close();
  });
});
