import { type Clock, systemClock } from '@org/core';
import type {
  BusHandlers,
  CacheDriver,
  DriverCommitArgs,
  DriverSetArgs,
  GetOrLockResult,
} from '../driver.js';
import { type MemoryBounds, MemoryStore } from '../memory-store.js';

/** Options of `createMemoryDriver`. */
export interface MemoryDriverOptions extends MemoryBounds {
  /** Time source (core's `Clock`), for tests. @default systemClock */
  clock?: Clock | undefined;
}

/** A driver that also exposes its store's size, for tests and metrics. */
export interface MemoryDriver extends CacheDriver {
  readonly entries: number;
  readonly bytes: number;
}

/**
 * An in-process `CacheDriver`: an LRU bounded by entries and bytes, with TTLs, tags, locks and an
 * in-process message channel, so that several caches sharing one driver (workers of one process,
 * tests) keep their L1s coherent just as with Redis. The cache's own L1 uses the same store.
 */
export function createMemoryDriver(options: MemoryDriverOptions = {}): MemoryDriver {
  const clock = options.clock ?? systemClock;
  const store = new MemoryStore<string>(options, (v) => v.length * 2, clock);
  const locks = new MemoryStore<string>({ maxEntries: 100_000 }, () => 0, clock);
  const channels = new Map<string, Set<BusHandlers>>();
  const expiry = (ttlMs: number | undefined) =>
    ttlMs === undefined ? Number.POSITIVE_INFINITY : clock.now() + ttlMs;
  const lock = (key: string, token: string, ttlMs: number) => {
    if (locks.get(key) !== undefined) return false;
    locks.set(key, token, clock.now() + ttlMs);
    return true;
  };
  const unlock = (key: string, token: string) => locks.get(key) === token && locks.delete(key);
  const publish = (channel: string, message: string) => {
    for (const h of channels.get(channel) ?? []) queueMicrotask(() => h.onMessage(message));
  };
  return {
    name: 'memory',
    get entries() {
      return store.size;
    },
    get bytes() {
      return store.byteSize;
    },
    async get(key) {
      return store.get(key);
    },
    async set(key, value, opts?: DriverSetArgs) {
      store.set(key, value, expiry(opts?.ttlMs), opts?.tags);
    },
    async delete(key) {
      return store.delete(key);
    },
    async clear(prefix) {
      store.clear(prefix);
    },
    async deleteByTag(tag) {
      return store.deleteByTag(tag);
    },
    async lock(key, token, ttlMs) {
      return lock(key, token, ttlMs);
    },
    async unlock(key, token) {
      return unlock(key, token);
    },
    async getOrLock(key, lockKey, token, ttlMs): Promise<GetOrLockResult> {
      const value = store.get(key);
      if (value !== undefined) return { value, locked: false };
      return { value: undefined, locked: lock(lockKey, token, ttlMs) };
    },
    async commit(key, value, opts: DriverCommitArgs) {
      store.set(key, value, expiry(opts.ttlMs), opts.tags);
      if (opts.unlock) unlock(opts.unlock.key, opts.unlock.token);
      if (opts.publish) publish(opts.publish.channel, opts.publish.message);
    },
    async publish(channel, message) {
      publish(channel, message);
    },
    async subscribe(channel, handlers) {
      let set = channels.get(channel);
      if (!set) {
        set = new Set();
        channels.set(channel, set);
      }
      set.add(handlers);
      handlers.onUp();
      return async () => {
        set.delete(handlers);
      };
    },
    isReady: () => true,
    async ping() {},
    async close() {
      store.clear();
      locks.clear();
      channels.clear();
    },
  };
}
