import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  CacheErrorCode,
  createCache,
  createCacheFromEnv,
  diagnosticsChannels,
  isCacheError,
} from '@org/cache';
import { createRedisDriver } from '@org/cache/redis';
import { serverAvailable } from '@org/test-utils';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL, rawClient, uniqueNamespace } from './support/redis.js';

describe.runIf(await serverAvailable('Redis', 6379))('createCache with Redis', () => {
  const raw = rawClient();
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of closers) await c();
    raw.disconnect();
  });
  const make = (opts: Parameters<typeof createCache>[0] = {}) => {
    const cache = createCache({ redis: REDIS_URL, ...opts });
    closers.push(() => cache.close());
    return cache;
  };

  it('connects from a URL, reports health, and stores values in Redis under the namespace', async () => {
    const namespace = uniqueNamespace('url');
    const cache = make({ namespace, jitter: 0, presets: { contractor: '10m' } });
    expect(await cache.ready()).toBe(true);
    const h = await cache.health();
    expect(h.available).toBe(true);
    expect(h.backend).toBe('redis');
    expect(h.latencyMs).toBeGreaterThanOrEqual(0);
    expect(h.latencyMs).toBeLessThan(250);
    await cache.set('contractor:1', { name: 'Ada' }, { ttl: 'contractor' });
    const stored = await raw.get(`${namespace}:v:contractor:1`);
    expect(stored).toMatch(/\|600000\|\{"name":"Ada"\}$/);
    const pttl = await raw.pttl(`${namespace}:v:contractor:1`);
    expect(pttl).toBeGreaterThan(590_000);
    expect(pttl).toBeLessThanOrEqual(600_000);
  });

  it('createCacheFromEnv connects to REDIS_URL', async () => {
    const cache = createCacheFromEnv({
      namespace: uniqueNamespace('env'),
      env: { REDIS_URL },
    });
    closers.push(() => cache.close());
    expect(await cache.ready()).toBe(true);
    expect((await cache.health()).backend).toBe('redis');
  });

  it('createRedisDriver: a URL client with Duration bounds, closed by close(); a bad URL refused at once', async () => {
    const driver = createRedisDriver(REDIS_URL, { commandTimeout: '120ms', connectTimeout: '2s' });
    const client = (await driver.client()) as Redis;
    expect(client.options.commandTimeout).toBe(120);
    expect(client.options.connectTimeout).toBe(2_000);
    expect(client.options.enableOfflineQueue).toBe(false);
    await driver.ping?.();
    await driver.close?.();
    await driver.close?.();
    expect(client.status).toBe('end');
    for (const bad of ['localhost:6379', 'http://127.0.0.1:6379']) {
      expect(() => createRedisDriver(bad)).toThrow(/redis:\/\//);
    }
    expect(() => createRedisDriver(REDIS_URL, { commandTimeout: '1 fortnight' as never })).toThrow(
      /`commandTimeout`/,
    );
    // A URL with a password: never in a message.
    let thrown: unknown;
    try {
      createRedisDriver('redis://:hunter2@127.0.0.1:6379', { connectTimeout: -1 });
    } catch (err) {
      thrown = err;
    }
    expect(isCacheError(thrown, CacheErrorCode.InvalidOption)).toBe(true);
    expect((thrown as Error).message).toMatch(/`connectTimeout`/);
    expect((thrown as Error).message).not.toContain('hunter2');
  });

  it('reads L2 when L1 does not have it, then serves L1', async () => {
    const namespace = uniqueNamespace('l2');
    const writer = make({ namespace });
    const reader = make({ namespace, invalidation: false });
    await writer.set('k', { when: new Date(0), u: undefined });
    const tiers: string[] = [];
    reader.on('hit', (e) => tiers.push(e.tier));
    expect(await reader.get('k')).toEqual({ when: new Date(0), u: undefined });
    expect(await reader.get('k')).toEqual({ when: new Date(0), u: undefined });
    expect(tiers).toEqual(['l2', 'l1']);
  });

  it('uses an ioredis instance the app holds (lazyConnect too), and leaves it open on close', async () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true });
    const namespace = uniqueNamespace('client');
    const cache = createCache({ redis: client, namespace });
    expect(await cache.ready()).toBe(true);
    await cache.set('k', 1);
    expect(await raw.exists(`${namespace}:v:k`)).toBe(1);
    await cache.close();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('applies separate L1 and L2 TTLs', async () => {
    const namespace = uniqueNamespace('l1ttl');
    const cache = make({ namespace, jitter: 0, memory: { ttl: 50 } });
    expect(await cache.ready()).toBe(true);
    await cache.set('k', 'v', { ttl: '60s' });
    await raw.set(`${namespace}:v:k`, `${Date.now() + 60_000}|60000|"changed behind its back"`);
    expect(await cache.get('k')).toBe('v');
    await new Promise((r) => setTimeout(r, 80));
    expect(await cache.get('k')).toBe('changed behind its back');
  });

  it('keeps the value in Redis through the grace period and serves it if the loader fails', async () => {
    const namespace = uniqueNamespace('grace');
    const cache = make({ namespace, jitter: 0, grace: '30s', memory: false });
    await cache.set('k', 'old', { ttl: 50 });
    const pttl = await raw.pttl(`${namespace}:v:k`);
    expect(pttl).toBeGreaterThan(29_000);
    await new Promise((r) => setTimeout(r, 80));
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.getOrSet('k', () => Promise.reject(new Error('down')))).toBe('old');
  });

  it('clears only its own namespace in Redis', async () => {
    const a = make({ namespace: uniqueNamespace('clr-a') });
    const b = make({ namespace: uniqueNamespace('clr-b') });
    await a.set('x', 1, { tags: ['t'] });
    await b.set('x', 2);
    await a.clear();
    expect(await raw.exists(`${a.namespace}:v:x`)).toBe(0);
    expect(await raw.exists(`${a.namespace}:t:t`)).toBe(0);
    expect(await b.get('x')).toBe(2);
  });

  it('treats a value it cannot read as a miss and says so on the error event', async () => {
    const namespace = uniqueNamespace('corrupt');
    const cache = make({ namespace, memory: false });
    await raw.set(`${namespace}:v:k`, `${Date.now() + 60_000}|60000|{not json`);
    const codes: string[] = [];
    cache.on('error', (e) => codes.push(e.error.code));
    expect(await cache.get('k')).toBeUndefined();
    expect(codes).toEqual(['ERR_CACHE_SERIALIZE']);
    expect(await cache.getOrSet('k', () => 'fixed')).toBe('fixed');
    expect(await cache.get('k')).toBe('fixed');
  });

  it('with Redis absent: every call completes fast, falls back, and health says unavailable', async () => {
    const cache = createCache({
      redis: 'redis://127.0.0.1:1',
      timeouts: { command: 100, connect: 100 },
    });
    closers.push(() => cache.close());
    const degraded: string[] = [];
    cache.on('degraded', (e) => degraded.push(e.error.code));
    const traced: unknown[] = [];
    const onTrace = (m: unknown) => traced.push(m);
    subscribe(diagnosticsChannels.degraded, onTrace);
    const t0 = performance.now();
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', 'kept in L1');
    expect(await cache.get('k')).toBe('kept in L1');
    expect(await cache.getOrSet('other', () => 'loaded')).toBe('loaded');
    await cache.delete('k');
    await cache.deleteByTag('t');
    await cache.clear();
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(degraded.length).toBe(1);
    expect(traced).toHaveLength(1);
    expect(traced[0]).toMatchObject({ error: { code: 'ERR_TIMEOUT', timeoutMs: 100 } });
    unsubscribe(diagnosticsChannels.degraded, onTrace);
    const h = await cache.health();
    expect(h).toMatchObject({ available: false, backend: 'redis' });
    expect(await cache.ready()).toBe(false);
  });
});
