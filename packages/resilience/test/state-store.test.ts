import {
  createBreaker,
  createMemoryStateStore,
  createRegistry,
  type MemoryStateStore,
} from '@org/resilience';
import { createRedisStateStore } from '@org/resilience/redis';
import { stateStoreConformance } from '@org/resilience/testing';
import { serverAvailable } from '@org/test-utils';
import { describe, expect, it, vi } from 'vitest';

// Stores opened on one space share it, as the suite requires.
const memorySpaces = new Map<string, MemoryStateStore>();
stateStoreConformance(
  'memory',
  (space) => {
    const first = memorySpaces.get(space);
    const store = createMemoryStateStore(first ? { sharedWith: first } : {});
    if (!first) memorySpaces.set(space, store);
    return store;
  },
  { describe, it, expect },
);

const redisUp = await serverAvailable('Redis', 6379);
if (redisUp) {
  // A roomier bound than the default: the shared Redis serves every suite at once in CI.
  stateStoreConformance(
    'redis',
    (space) =>
      createRedisStateStore({
        redis: 'redis://127.0.0.1:6379',
        prefix: `test:${space}`,
        timeout: '2s',
      }),
    { describe, it, expect },
  );
}

describe('the memory state store', () => {
  it('shares a breaker opening between breakers of one process', async () => {
    const a = createMemoryStateStore();
    const b = createMemoryStateStore({ sharedWith: a });
    const upstream = vi.fn(async () => {
      throw Object.assign(new Error('down'), { status: 503 });
    });
    const opts = { name: 'shared', failureThreshold: 1, resetTimeout: '5s' } as const;
    const one = createBreaker(upstream, { ...opts, registry: createRegistry(), sharedState: a });
    const two = createBreaker(upstream, { ...opts, registry: createRegistry(), sharedState: b });
    const opened = new Promise((r) => two.once('open', r));
    await one.fire().catch(() => {});
    await expect(opened).resolves.toMatchObject({ name: 'shared', remote: true, trips: 1 });
    expect(two.state).toBe('open');
    await expect(two.fire()).rejects.toMatchObject({ code: 'ERR_RESILIENCE_BREAKER_OPEN' });
    expect(upstream).toHaveBeenCalledTimes(1);
    await Promise.all([one.close(), two.close(), a.close(), b.close()]);
  });

  it('refuses a sharedWith that is not a memory store, with a code', () => {
    expect(() => createMemoryStateStore({ sharedWith: {} as MemoryStateStore })).toThrow(
      expect.objectContaining({ code: 'ERR_RESILIENCE_INVALID_OPTION' }),
    );
  });

  it('expires open periods and probe rights on the injected clock', async () => {
    let now = 1_000;
    const store = createMemoryStateStore({ clock: { now: () => now } });
    await store.publish('x', { state: 'open', openUntil: 2_000, trips: 1, origin: 'o' });
    expect(await store.load('x')).toMatchObject({ state: 'open' });
    expect(await store.acquireProbe('x', 500)).toBe(true);
    expect(await store.acquireProbe('x', 500)).toBe(false);
    now = 2_000;
    expect(await store.load('x')).toBeUndefined();
    expect(await store.acquireProbe('x', 500)).toBe(true);
  });
});
