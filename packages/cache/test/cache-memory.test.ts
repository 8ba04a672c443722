import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  CacheError,
  CacheErrorCode,
  type CacheEvents,
  createCache,
  createCacheFromEnv,
  createMemoryDriver,
  diagnosticsChannels,
  isCacheError,
} from '@org/cache';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

describe('createCache, memory only', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('misses with undefined, and keeps undefined, null, Dates and nesting apart', async () => {
    const cache = createCache();
    expect(await cache.get('nope')).toBeUndefined();
    const when = new Date('2025-05-05T05:05:05.005Z');
    const value = { a: null, b: undefined, c: [undefined, null, 1], when, nested: { d: [when] } };
    await cache.set('v', value);
    const back = await cache.get<typeof value>('v');
    expect(back).toEqual(value);
    expect(back?.when).toBeInstanceOf(Date);
    expect(back?.nested.d[0]?.getTime()).toBe(when.getTime());
    expect(Object.hasOwn(back ?? {}, 'b')).toBe(true);
    expect(back?.c).toEqual([undefined, null, 1]);
    await cache.set('u', undefined);
    await cache.set('n', null);
    expect(await cache.get('n')).toBeNull();
    // A stored undefined is a hit that returns undefined: getOrSet does not reload it.
    const loader = vi.fn(() => 'reloaded');
    expect(await cache.getOrSet('u', loader)).toBeUndefined();
    expect(loader).not.toHaveBeenCalled();
  });

  it('returns copies, so mutating a result does not change the cache', async () => {
    const cache = createCache();
    await cache.set('o', { n: 1 });
    const a = await cache.get<{ n: number }>('o');
    if (a) a.n = 2;
    expect(await cache.get('o')).toEqual({ n: 1 });
  });

  it("expires at the default TTL (5 min) and at the app's presets", async () => {
    const cache = createCache({ jitter: 0, presets: { contractor: '10m', pricing: '30m' } });
    await cache.set('d', 1);
    await cache.set('c', 1, { ttl: 'contractor' });
    await cache.set('p', 1, { ttl: 'pricing' });
    await cache.set('s', 1, { ttl: 2_000 });
    vi.advanceTimersByTime(2_001);
    expect(await cache.get('s')).toBeUndefined();
    vi.advanceTimersByTime(298_000);
    expect(await cache.get('d')).toBeUndefined();
    expect(await cache.get('c')).toBe(1);
    vi.advanceTimersByTime(300_000);
    expect(await cache.get('c')).toBeUndefined();
    expect(await cache.get('p')).toBe(1);
    vi.advanceTimersByTime(1_200_000);
    expect(await cache.get('p')).toBeUndefined();
  });

  it('takes TTLs as durations: a number is milliseconds, a string carries its unit', async () => {
    const cache = createCache({ jitter: 0, ttl: '1m', presets: { short: 1_500 } });
    await cache.set('default', 1);
    await cache.set('ms', 1, { ttl: 500 });
    await cache.set('unit', 1, { ttl: '2s' });
    await cache.set('preset', 1, { ttl: 'short' });
    vi.advanceTimersByTime(501);
    expect(await cache.get('ms')).toBeUndefined();
    expect(await cache.get('preset')).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(await cache.get('preset')).toBeUndefined();
    expect(await cache.get('unit')).toBe(1);
    vi.advanceTimersByTime(500);
    expect(await cache.get('unit')).toBeUndefined();
    expect(await cache.get('default')).toBe(1);
    vi.advanceTimersByTime(58_000);
    expect(await cache.get('default')).toBeUndefined();
    // A preset may also be the default.
    const named = createCache({ jitter: 0, ttl: 'short', presets: { short: '1s' } });
    await named.set('k', 1);
    vi.advanceTimersByTime(1_001);
    expect(await named.get('k')).toBeUndefined();
  });

  it('createCacheFromEnv: CACHE_TTL_<PRESET> over the presets, CACHE_TTL over the default', async () => {
    const cache = createCacheFromEnv({
      jitter: 0,
      presets: { contractor: '10s', quoteTemplate: '20s' },
      env: { CACHE_TTL_CONTRACTOR: '5s', CACHE_TTL_QUOTE_TEMPLATE: '7s', CACHE_TTL: '3s' },
    });
    await cache.set('c', 1, { ttl: 'contractor' });
    await cache.set('q', 1, { ttl: 'quoteTemplate' });
    await cache.set('s', 1);
    vi.advanceTimersByTime(3_001);
    expect(await cache.get('s')).toBeUndefined();
    expect(await cache.get('c')).toBe(1);
    vi.advanceTimersByTime(2_000);
    expect(await cache.get('c')).toBeUndefined();
    expect(await cache.get('q')).toBe(1);
    vi.advanceTimersByTime(2_000);
    expect(await cache.get('q')).toBeUndefined();
    // Presets are the app's: a variable for a name it did not define adds none.
    const other = createCacheFromEnv({ env: { CACHE_TTL_SESSION: '3s' } });
    await expect(other.set('k', 1, { ttl: 'session' as never })).rejects.toSatisfy((e) =>
      isCacheError(e, CacheErrorCode.InvalidOption),
    );
    // Empty variables are unset; REDIS_URL empty = memory only.
    const empty = createCacheFromEnv({ env: { REDIS_URL: '', CACHE_TTL: '' } });
    expect((await empty.health()).backend).toBe('memory');
  });

  it('createCacheFromEnv names REDIS_URL when it is no redis URL, and shows no part of it', () => {
    for (const bad of ['localhost:6379', 'http://u:hunter2@cache:6379', 'redis://']) {
      let thrown: unknown;
      try {
        createCacheFromEnv({ env: { REDIS_URL: bad } });
      } catch (err) {
        thrown = err;
      }
      expect(isCacheError(thrown, CacheErrorCode.InvalidOption)).toBe(true);
      const message = (thrown as Error).message;
      expect(message).toContain('`REDIS_URL` must be a redis:// or rediss:// URL');
      expect(message).not.toContain('hunter2');
      expect(message).not.toContain('localhost');
    }
  });

  it('createCache reads no environment variable', async () => {
    process.env['CACHE_TTL'] = '1s';
    process.env['CACHE_TTL_PRICING'] = '1s';
    try {
      const cache = createCache({ jitter: 0, presets: { pricing: '30m' } });
      await cache.set('d', 1);
      await cache.set('p', 1, { ttl: 'pricing' });
      vi.advanceTimersByTime(2_000);
      expect(await cache.get('d')).toBe(1);
      expect(await cache.get('p')).toBe(1);
    } finally {
      delete process.env['CACHE_TTL'];
      delete process.env['CACHE_TTL_PRICING'];
    }
  });

  it('refuses a bad TTL with a coded error that says what to fix', async () => {
    const env = (v: string) => () =>
      createCacheFromEnv({ presets: { pricing: '30m' }, env: { CACHE_TTL_PRICING: v } });
    expect(env('soon')).toThrow(/CACHE_TTL_PRICING/);
    // A bare number in the environment used to mean seconds: refused rather than read as ms.
    expect(env('1800')).toThrow(/CACHE_TTL_PRICING.*unit/);
    expect(() => createCache({ presets: { pricing: 0 } })).toThrow(/presets.pricing/);
    expect(() => createCache({ presets: { '5m': 1_000 } })).toThrow(/reads as a duration/);
    expect(() => createCache({ ttl: 'nope' as never })).toThrow(/Unknown TTL preset/);
    const cache = createCache({ presets: { contractor: '10m', pricing: '30m' } });
    const err = await cache.set('k', 1, { ttl: 'nope' as 'pricing' }).catch((e) => e);
    expect(isCacheError(err, 'ERR_CACHE_INVALID_OPTION')).toBe(true);
    expect(err).toBeInstanceOf(CacheError);
    expect(err.message).toMatch(/Known presets: contractor, pricing/);
    await expect(cache.set('k', 1, { ttl: -1 })).rejects.toThrow(/positive duration/);
    // A string without a unit is refused: '15' could be seconds or milliseconds.
    await expect(cache.set('k', 1, { ttl: '15' as never })).rejects.toThrow(/positive duration/);
    expect(() => createCache({ ttl: '5 fortnights' as never })).toThrow(
      /`ttl` must be a positive duration/,
    );
  });

  it('refuses bad options with ERR_CACHE_INVALID_OPTION naming the option', () => {
    const bad: [Parameters<typeof createCache>[0], RegExp][] = [
      [{ grace: -1 }, /`grace`/],
      [{ grace: '1 fortnight' as never }, /`grace`/],
      [{ timeouts: { command: 0 } }, /`timeouts.command`/],
      [{ memory: { ttl: 'soon' as never } }, /`memory.ttl`/],
      [{ jitter: 2 }, /`jitter`/],
      [{ invalidationWindow: -1 }, /`invalidationWindow`/],
      [{ invalidationWindow: '2s' }, /`invalidationWindow`/],
      [{ crossInstanceLock: 'no' as never }, /`crossInstanceLock`/],
      [{ sharedResults: 1 as never }, /`sharedResults`/],
      [{ namespace: '' }, /`namespace`/],
      [{ redis: 'localhost:6379' }, /redis:\/\//],
    ];
    for (const [options, message] of bad) {
      expect(() => createCache(options)).toThrow(message);
      try {
        createCache(options);
      } catch (err) {
        expect(isCacheError(err, CacheErrorCode.InvalidOption)).toBe(true);
      }
    }
  });

  it('shortens TTLs by up to `jitter`, never lengthens them', async () => {
    const cache = createCache({ jitter: 0.5, random: () => 0.999_999 });
    await cache.set('j', 1, { ttl: '100s' });
    vi.advanceTimersByTime(50_001);
    expect(await cache.get('j')).toBeUndefined();
    const none = createCache({ jitter: 0.5, random: () => 0 });
    await none.set('j', 1, { ttl: 100_000 });
    vi.advanceTimersByTime(99_999);
    expect(await none.get('j')).toBe(1);
  });

  it('deletes, deletes by tag, and reports whether a key existed', async () => {
    const cache = createCache();
    await cache.set('a', 1, { tags: ['t'] });
    await cache.set('b', 2, { tags: ['t', 'u'] });
    await cache.set('c', 3, { tags: ['u'] });
    expect(await cache.delete('a')).toBe(true);
    expect(await cache.delete('a')).toBe(false);
    await cache.deleteByTag('u');
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('c')).toBeUndefined();
  });

  it('keeps keys with any characters apart, and namespaces apart on a shared driver', async () => {
    const driver = createMemoryDriver();
    const one = createCache({ driver, namespace: 'one', memory: false });
    const two = createCache({ driver, namespace: 'one:v', memory: false });
    await one.set('v:x', 'from one');
    await two.set('x', 'from two');
    expect(await one.get('v:x')).toBe('from one');
    expect(await two.get('x')).toBe('from two');
    for (const k of ['', ' ', '*', 'ü:🙂', '\u0000', 'a\nb']) await one.set(k, `=${k}`);
    for (const k of ['', ' ', '*', 'ü:🙂', '\u0000', 'a\nb'])
      expect(await one.get(k)).toBe(`=${k}`);
    await one.clear();
    expect(await one.get('v:x')).toBeUndefined();
    expect(await two.get('x')).toBe('from two');
  });

  it('bounds L1 by entries (least recently used first) and by bytes', async () => {
    const cache = createCache({ memory: { maxEntries: 3 } });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.set('c', 3);
    await cache.get('a');
    await cache.set('d', 4);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBe(1);
    expect(await cache.get('d')).toBe(4);
    const small = createCache({ memory: { maxBytes: 4_000 } });
    await small.set('big', 'x'.repeat(5_000));
    expect(await small.get('big')).toBeUndefined();
    for (let i = 0; i < 10; i++) await small.set(`k${i}`, 'y'.repeat(500));
    expect(await small.get('k0')).toBeUndefined();
    expect(await small.get('k9')).toBe('y'.repeat(500));
  });

  it('emits hit and miss events with the tier', async () => {
    const cache = createCache();
    const seen: string[] = [];
    const off = cache.on('hit', (e: CacheEvents['hit']) => seen.push(`hit:${e.key}:${e.tier}`));
    cache.on('miss', (e) => seen.push(`miss:${e.key}`));
    await cache.get('k');
    await cache.set('k', 1);
    await cache.get('k');
    off();
    await cache.get('k');
    expect(seen).toEqual(['miss:k', 'hit:k:l1']);
  });

  it('publishes every event on org:cache:<event>, and once() listens once', async () => {
    expect(diagnosticsChannels).toEqual({
      hit: 'org:cache:hit',
      miss: 'org:cache:miss',
      error: 'org:cache:error',
      degraded: 'org:cache:degraded',
      recovered: 'org:cache:recovered',
    });
    const cache = createCache();
    const traced: unknown[] = [];
    const onHit = (m: unknown) => traced.push(m);
    const onMiss = (m: unknown) => traced.push(m);
    subscribe('org:cache:hit', onHit);
    subscribe('org:cache:miss', onMiss);
    try {
      let onceSeen = 0;
      cache.once('miss', () => onceSeen++);
      await cache.get('k');
      await cache.get('k');
      await cache.set('k', 1);
      await cache.get('k');
      expect(onceSeen).toBe(1);
      expect(traced).toEqual([{ key: 'k' }, { key: 'k' }, { key: 'k', tier: 'l1', stale: false }]);
    } finally {
      unsubscribe('org:cache:hit', onHit);
      unsubscribe('org:cache:miss', onMiss);
    }
  });

  it('turns a throwing listener into a process warning, never a failed call', async () => {
    const cache = createCache();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      cache.on('miss', () => {
        throw new Error('listener bug');
      });
      expect(await cache.get('k')).toBeUndefined();
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining('listener bug'),
        expect.objectContaining({ code: 'ORG_LISTENER_ERROR' }),
      );
    } finally {
      warn.mockRestore();
    }
  });

  it('reports memory health, also for an empty or unset REDIS_URL', async () => {
    const cache = createCache();
    expect(await cache.health()).toEqual({ available: true, latencyMs: 0, backend: 'memory' });
    const empty = createCache({ redis: '' });
    expect(await empty.health()).toEqual({ available: true, latencyMs: 0, backend: 'memory' });
    const unset = createCache({ redis: undefined });
    expect(await unset.health()).toEqual({ available: true, latencyMs: 0, backend: 'memory' });
    expect(await cache.ready()).toBe(true);
  });

  it('takes a pluggable serializer', async () => {
    const calls: string[] = [];
    const cache = createCache({
      serializer: {
        serialize: (v) => {
          calls.push('s');
          return String(v);
        },
        deserialize: (t) => {
          calls.push('d');
          return `<${t}>`;
        },
      },
    });
    await cache.set('k', 42);
    expect(await cache.get('k')).toBe('<42>');
    expect(calls).toEqual(['s', 'd']);
  });

  it('refuses values JSON cannot hold, with ERR_CACHE_SERIALIZE', async () => {
    const cache = createCache();
    const err = await cache.set('k', { n: 1n }).catch((e) => e);
    expect(isCacheError(err, 'ERR_CACHE_SERIALIZE')).toBe(true);
  });

  it('keeps working after close, on the loader alone', async () => {
    const cache = createCache();
    await cache.close();
    expect(await cache.getOrSet('k', () => 7)).toBe(7);
  });
});

describe('two caches sharing one memory driver', () => {
  it('keep their L1s coherent through the driver channel, and share the loader lock', async () => {
    const driver = createMemoryDriver();
    const a = createCache({ driver, namespace: 'shared' });
    const b = createCache({ driver, namespace: 'shared' });
    await a.set('k', 1);
    expect(await b.get('k')).toBe(1);
    await a.set('k', 2);
    // Within `invalidationWindow` (5 ms) of the first write's message, the second one's follows.
    await new Promise((r) => setTimeout(r, 20));
    expect(await b.get('k')).toBe(2);
    let runs = 0;
    const loader = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 30));
      return 'once';
    };
    const all = await Promise.all([a.getOrSet('x', loader), b.getOrSet('x', loader)]);
    expect(all).toEqual(['once', 'once']);
    expect(runs).toBe(1);
  });
});

describe('withNamespace', () => {
  it('gives views with their own keys, nested under the parent for clear()', async () => {
    const cache = createCache({ namespace: 'app' });
    const users = cache.withNamespace('users');
    const orders = cache.withNamespace('orders');
    expect(users.namespace).toBe('app:users');
    await cache.set('1', 'root');
    await users.set('1', 'user');
    await orders.set('1', 'order');
    expect([await cache.get('1'), await users.get('1'), await orders.get('1')]).toEqual([
      'root',
      'user',
      'order',
    ]);
    await users.clear();
    expect([await cache.get('1'), await users.get('1'), await orders.get('1')]).toEqual([
      'root',
      undefined,
      'order',
    ]);
    await users.close();
    expect(await cache.get('1')).toBe('root');
    await cache.clear();
    expect(await orders.get('1')).toBeUndefined();
    expect(() => cache.withNamespace('')).toThrow(/non-empty/);
  });
});
