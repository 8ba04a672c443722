import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A namespace no other test (or suite sharing the Redis) uses. */
export const uniqueNamespace = (label: string) => `test-${label}-${randomUUID()}`;

/** A plain client to look at what the cache stored. */
export function rawClient(url = REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
}

/** Polls `probe` every 10 ms until it returns true; returns how long that took, or throws. */
export async function within(ms: number, probe: () => Promise<boolean> | boolean): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (await probe()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`condition not met within ${ms} ms`);
}
