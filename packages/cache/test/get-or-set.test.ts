import { type CacheDriver, createCache, isCacheError } from '@org/cache';
import { type AbortedError, isAbortedError, isTimeoutError, type TimeoutError } from '@org/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

describe('getOrSet (memory only)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the loader once for 100 concurrent callers of a cold key', async () => {
    const cache = createCache();
    let runs = 0;
    const loader = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 100));
      return { id: 1 };
    };
    const all = Promise.all(Array.from({ length: 100 }, () => cache.getOrSet('cold', loader)));
    await vi.advanceTimersByTimeAsync(100);
    const results = await all;
    expect(runs).toBe(1);
    expect(results.every((r) => r.id === 1)).toBe(true);
    // Each caller gets its own copy.
    expect(results[0]).not.toBe(results[1]);
    expect(await cache.getOrSet('cold', loader)).toEqual({ id: 1 });
    expect(runs).toBe(1);
  });

  it('sharedResults: the callers of one load get one deep-frozen value; the default copies', async () => {
    const value = { id: 1, tags: ['a'], nested: { n: 1 } };
    const shared = createCache({ sharedResults: true });
    const copied = createCache();
    for (const cache of [shared, copied]) {
      const loader = async () => {
        await new Promise((r) => setTimeout(r, 10));
        return value;
      };
      const all = Promise.all(Array.from({ length: 3 }, () => cache.getOrSet('k', loader)));
      await vi.advanceTimersByTimeAsync(10);
      const results = await all;
      expect(results.every((r) => r.id === 1 && r.nested.n === 1)).toBe(true);
      if (cache === shared) {
        expect(results[0]).toBe(results[1]);
        expect(Object.isFrozen(results[0])).toBe(true);
        expect(Object.isFrozen(results[0]?.tags)).toBe(true);
        expect(Object.isFrozen(results[0]?.nested)).toBe(true);
        expect(() => {
          (results[0] as { nested: { n: number } }).nested.n = 2;
        }).toThrow(TypeError);
        expect(() => results[0]?.tags.push('b')).toThrow(TypeError);
      } else {
        expect(results[0]).not.toBe(results[1]);
        expect(Object.isFrozen(results[0])).toBe(false);
        (results[0] as { nested: { n: number } }).nested.n = 2;
        expect(results[1]?.nested.n).toBe(1);
      }
      // Either way, what the cache holds is untouched, and the loader's own object is not frozen.
      expect(await cache.getOrSet('k', loader)).toEqual({ id: 1, tags: ['a'], nested: { n: 1 } });
      expect(Object.isFrozen(value)).toBe(false);
    }
  });

  it('passes the key and a signal to the loader, and stores under the given ttl and tags', async () => {
    const cache = createCache({ jitter: 0 });
    const seen: unknown[] = [];
    await cache.getOrSet(
      'k',
      ({ key, signal }) => {
        seen.push(key, signal instanceof AbortSignal);
        return 'v';
      },
      { ttl: '10s', tags: ['t'] },
    );
    expect(seen).toEqual(['k', true]);
    vi.advanceTimersByTime(9_999);
    expect(await cache.get('k')).toBe('v');
    await cache.deleteByTag('t');
    expect(await cache.get('k')).toBeUndefined();
  });

  it('propagates the loader error unchanged and caches nothing', async () => {
    const cache = createCache();
    const boom = new Error('upstream down');
    await expect(cache.getOrSet('k', () => Promise.reject(boom))).rejects.toBe(boom);
    await expect(
      cache.getOrSet('k', () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await cache.getOrSet('k', () => 'ok')).toBe('ok');
  });

  it('serves the stale value within grace when the loader fails, and the error past it', async () => {
    const cache = createCache({ jitter: 0, grace: '60s' });
    const stale: boolean[] = [];
    cache.on('hit', (e) => stale.push(e.stale));
    await cache.getOrSet('k', () => 'v1', { ttl: '10s' });
    vi.advanceTimersByTime(30_000);
    const fail = () => Promise.reject(new Error('down'));
    expect(await cache.getOrSet('k', fail, { ttl: '10s' })).toBe('v1');
    expect(stale).toEqual([true]);
    // get() does not serve stale values.
    expect(await cache.get('k')).toBeUndefined();
    vi.advanceTimersByTime(41_000);
    await expect(cache.getOrSet('k', fail, { ttl: '10s' })).rejects.toThrow('down');
  });

  it('with a soft timeout, answers stale while the refresh finishes in the background', async () => {
    const cache = createCache({ jitter: 0, grace: '60s', timeouts: { soft: 50 } });
    await cache.getOrSet('k', () => 'v1', { ttl: '10s' });
    vi.advanceTimersByTime(11_000);
    const slow = () => new Promise<string>((r) => setTimeout(() => r('v2'), 1_000));
    const answer = cache.getOrSet('k', slow, { ttl: '10s' });
    await vi.advanceTimersByTimeAsync(50);
    expect(await answer).toBe('v1');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await cache.get('k')).toBe('v2');
  });

  it('with no stale value, waits for the loader despite the soft timeout', async () => {
    const cache = createCache({ timeouts: { soft: 10 } });
    const answer = cache.getOrSet('k', () => new Promise((r) => setTimeout(() => r('v'), 500)));
    await vi.advanceTimersByTimeAsync(500);
    expect(await answer).toBe('v');
  });

  it("aborts the loader at the hard timeout and rejects with core's TimeoutError", async () => {
    const cache = createCache({ timeouts: { hard: 100 } });
    let aborted = false;
    let reason: unknown;
    const answer = cache
      .getOrSet('k', ({ signal }) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          reason = signal.reason;
        });
        return new Promise(() => {});
      })
      .catch((e) => e);
    await vi.advanceTimersByTimeAsync(100);
    const err = (await answer) as TimeoutError;
    expect(isTimeoutError(err)).toBe(true);
    expect(err.code).toBe('ERR_TIMEOUT');
    expect(err.timeoutMs).toBe(100);
    expect(err.message).toMatch(/timeouts.hard/);
    expect(aborted).toBe(true);
    expect(reason).toBe(err);
  });

  it('takes a per-call hard timeout as a duration string', async () => {
    const cache = createCache();
    const answer = cache
      .getOrSet('k', () => new Promise(() => {}), { timeouts: { hard: '1s' } })
      .catch((e) => e);
    await vi.advanceTimersByTimeAsync(999);
    let settled = false;
    void answer.then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(((await answer) as { timeoutMs: number }).timeoutMs).toBe(1_000);
  });

  it('refreshes early in the background when a hit falls in the last part of the TTL', async () => {
    const cache = createCache({ jitter: 0, earlyRefresh: 0.8 });
    let n = 0;
    const loader = async () => {
      n++;
      return `v${n}`;
    };
    expect(await cache.getOrSet('k', loader, { ttl: '100s' })).toBe('v1');
    vi.advanceTimersByTime(50_000);
    expect(await cache.getOrSet('k', loader, { ttl: '100s' })).toBe('v1');
    expect(n).toBe(1);
    vi.advanceTimersByTime(31_000);
    expect(await cache.getOrSet('k', loader, { ttl: '100s' })).toBe('v1');
    await vi.advanceTimersByTimeAsync(0);
    expect(n).toBe(2);
    expect(await cache.get('k')).toBe('v2');
    // The refreshed entry has a full TTL again.
    vi.advanceTimersByTime(79_000);
    expect(await cache.get('k')).toBe('v2');
  });

  it("lets one caller's signal stop its own wait without cancelling the shared load", async () => {
    const cache = createCache();
    const ctl = new AbortController();
    const loader = () => new Promise((r) => setTimeout(() => r('v'), 100));
    const a = cache.getOrSet('k', loader, { signal: ctl.signal }).catch((e) => e);
    const b = cache.getOrSet('k', loader);
    const reason = new Error('client went away');
    ctl.abort(reason);
    const err = (await a) as AbortedError;
    expect(isAbortedError(err)).toBe(true);
    expect(err.code).toBe('ERR_ABORTED');
    expect(err.cause).toBe(reason);
    await vi.advanceTimersByTimeAsync(100);
    expect(await b).toBe('v');
  });

  it("rejects an aborted get, health or ready with core's AbortedError, the driver hanging", async () => {
    const hanging: CacheDriver = {
      name: 'hanging',
      get: () => new Promise(() => {}),
      set: async () => {},
      delete: async () => false,
      clear: async () => {},
      ping: () => new Promise(() => {}),
    };
    const cache = createCache({ driver: hanging, timeouts: { command: '10s' } });
    for (const call of [
      (signal: AbortSignal) => cache.get('k', { signal }),
      (signal: AbortSignal) => cache.health({ signal }),
      (signal: AbortSignal) => cache.ready({ signal }),
    ]) {
      const ctl = new AbortController();
      const answer = call(ctl.signal).catch((e) => e);
      await vi.advanceTimersByTimeAsync(20);
      const reason = new Error('client went away');
      ctl.abort(reason);
      const err = (await answer) as AbortedError;
      expect(isAbortedError(err)).toBe(true);
      expect(err.cause).toBe(reason);
    }
    // Already aborted: at once.
    await expect(cache.health({ signal: AbortSignal.abort() })).rejects.toSatisfy(isAbortedError);
    await cache.close();
  });

  it('rejects a non-function loader', async () => {
    const cache = createCache();
    const err = await cache.getOrSet('k', 'nope' as never).catch((e) => e);
    expect(isCacheError(err, 'ERR_CACHE_INVALID_OPTION')).toBe(true);
  });
});
