import { createCache } from '@org/cache';
import {
  hasCommand,
  type OtelHarness,
  programAvailable,
  serverAvailable,
  startOtel,
  startRedisServer,
} from '@org/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REDIS_URL, uniqueNamespace } from './support/redis.js';

let otel: OtelHarness;
beforeEach(() => {
  otel = startOtel(); // after @org/cache was imported: late registration
});
afterEach(() => otel.close());

const REQUESTS = 'org.cache.requests';
const DURATION = 'org.cache.operation.duration';
const LOADS = 'org.cache.loads';
const L2_DURATION = 'org.cache.l2.duration';
const SPAN_CLIENT = 2;
const STATUS_ERROR = 2;

const req = (operation: string, result: string, tier?: string) => ({
  'org.cache.operation': operation,
  'org.cache.result': result,
  ...(tier === undefined ? {} : { 'org.cache.tier': tier }),
});

/** No key, tag or view name anywhere: not in the metrics, not in the spans. */
async function expectNoKeys(...secrets: string[]) {
  const all = JSON.stringify([await otel.collect(), otel.spans().map((s) => s.attributes)]);
  for (const s of secrets) expect(all).not.toContain(s);
}

describe('cache telemetry, memory only', () => {
  it('counts get and getOrSet calls by result and tier, with their durations, per caller', async () => {
    const cache = createCache({ namespace: 'quotes' });
    expect(await cache.get('user-42:quote')).toBeUndefined();
    await cache.set('user-42:quote', { total: 1 }, { tags: ['tenant-7'] });
    expect(await cache.get('user-42:quote')).toEqual({ total: 1 });
    expect(await cache.get('user-42:quote')).toEqual({ total: 1 });
    let runs = 0;
    const loader = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 20));
      return 'v';
    };
    // Five callers of one cold key: one load, five misses (each waited for the loader).
    await Promise.all(Array.from({ length: 5 }, () => cache.getOrSet('user-42:cold', loader)));
    expect(await cache.getOrSet('user-42:cold', loader)).toBe('v');
    expect(runs).toBe(1);

    const ns = { 'org.cache.namespace': 'quotes' };
    expect(await otel.sum(REQUESTS, { ...ns, ...req('get', 'miss') })).toBe(1);
    expect(await otel.sum(REQUESTS, { ...ns, ...req('get', 'hit', 'l1') })).toBe(2);
    expect(await otel.sum(REQUESTS, req('getOrSet', 'miss'))).toBe(5);
    expect(await otel.sum(REQUESTS, req('getOrSet', 'hit', 'l1'))).toBe(1);
    expect(await otel.sum(REQUESTS)).toBe(9);
    const [miss] = await otel.points(REQUESTS, req('get', 'miss'));
    expect(miss?.attributes['org.cache.tier']).toBeUndefined();
    expect(miss?.unit).toBe('{request}');

    // One duration per call but L1 hits (counted, not timed), in seconds; a getOrSet miss
    // includes its 20 ms loader.
    expect(await otel.sum(DURATION, req('get', 'hit', 'l1'))).toBe(0);
    expect(await otel.sum(DURATION, req('get', 'miss'))).toBe(1);
    expect(await otel.sum(DURATION, { 'org.cache.operation': 'set' })).toBe(1);
    const [cold] = await otel.points(DURATION, req('getOrSet', 'miss'));
    expect(cold?.unit).toBe('s');
    expect(cold?.value).toBe(5);
    expect(cold?.sum).toBeGreaterThan(5 * 0.015);
    expect(cold?.sum).toBeLessThan(5 * 5);
    expect(cold?.boundaries[0]).toBe(0.005);

    expect(await otel.sum(LOADS, { ...ns, 'org.cache.outcome': 'success' })).toBe(1);
    expect(await otel.sum('org.cache.load.duration')).toBe(1);
    const [load] = otel.spans('cache load');
    expect(load?.attributes).toEqual(ns);
    await expectNoKeys('user-42', 'tenant-7');
    await cache.close();
  });

  it('counts a stale serve and the failed load behind it, with the loader’s error', async () => {
    let now = 1_000_000;
    const cache = createCache({ namespace: 'stale', clock: { now: () => now }, jitter: 0 });
    await cache.getOrSet('k', () => 'old', { ttl: 1000, grace: '1h' });
    now += 5_000; // past the TTL, within grace
    const failing = () => Promise.reject(new TypeError('database down'));
    expect(await cache.getOrSet('k', failing, { ttl: 1000, grace: '1h' })).toBe('old');
    expect(await otel.sum(REQUESTS, req('getOrSet', 'stale', 'l1'))).toBe(1);
    expect(
      await otel.sum(LOADS, { 'org.cache.outcome': 'failure', 'error.type': 'TypeError' }),
    ).toBe(1);
    const [load] = otel.spans('cache load').filter((s) => s.status.code === STATUS_ERROR);
    expect(load?.attributes['error.type']).toBe('TypeError');

    // No stale value: the loader's error reaches the caller, and the call is timed with it but
    // counted as no request result.
    await expect(cache.getOrSet('other', failing)).rejects.toThrow('database down');
    const [failed] = await otel.points(DURATION, { 'error.type': 'TypeError' });
    expect(failed?.attributes['org.cache.operation']).toBe('getOrSet');
    expect(await otel.sum(REQUESTS, req('getOrSet', 'miss'))).toBe(1); // the first call only
    expect(await otel.sum(LOADS, { 'org.cache.outcome': 'failure' })).toBe(2);
    await cache.close();
  });

  it('observes the L1 entry count at each collection, under the root namespace only', async () => {
    const cache = createCache({ namespace: 'sizes', memory: { maxEntries: 3 } });
    const view = cache.withNamespace('tenant-7');
    const entries = async () => (await otel.points('org.cache.l1.entries'))[0];
    expect((await entries())?.value).toBe(0);
    await cache.set('a', 1);
    await view.set('b', 2);
    expect((await entries())?.value).toBe(2);
    expect((await entries())?.attributes).toEqual({ 'org.cache.namespace': 'sizes' });
    expect((await entries())?.unit).toBe('{entry}');
    for (const k of ['c', 'd', 'e']) await cache.set(k, k);
    expect((await entries())?.value).toBe(3); // bounded by maxEntries
    await cache.delete('e');
    expect((await entries())?.value).toBe(2);
    await cache.clear();
    expect((await entries())?.value).toBe(0);
    expect(await otel.points('org.cache.l1.entries')).toHaveLength(1); // the view adds none
    expect(await otel.sum(DURATION, { 'org.cache.operation': 'delete' })).toBe(1);
    expect(await otel.sum(DURATION, { 'org.cache.operation': 'clear' })).toBe(1);
    await expectNoKeys('tenant-7');
    await cache.close();
  });

  it('reads the L1 of a cache filled before the SDK was registered, with no call in between', async () => {
    await otel.close();
    const cache = createCache({ namespace: 'early' });
    await cache.set('a', 1);
    await cache.set('b', 2);
    otel = startOtel();
    await Promise.resolve(); // the gauges attach in the microtask after the registration
    const [early] = await otel.points('org.cache.l1.entries', { 'org.cache.namespace': 'early' });
    expect(early?.value).toBe(2);
    await cache.close();
  });

  it('stops reading a cache once it is closed', async () => {
    const closed = createCache({ namespace: 'closed-one' });
    const live = createCache({ namespace: 'live-one' });
    await closed.set('a', 1);
    await live.set('a', 1);
    const size = async (namespace: string) =>
      (await otel.points('org.cache.l1.entries', { 'org.cache.namespace': namespace }))[0]?.value;
    expect(await size('closed-one')).toBe(1);
    await closed.close(); // empties its L1
    await live.set('b', 2);
    expect(await size('live-one')).toBe(2);
    // Not read any more: the SDK's cumulative reader repeats the last value it saw.
    expect(await size('closed-one')).toBe(1);
    // A provider registered now never sees it; the live cache it does.
    await otel.close();
    otel = startOtel();
    await Promise.resolve();
    expect(await size('closed-one')).toBeUndefined();
    expect(await size('live-one')).toBe(2);
    await live.close();
  });
});

describe.runIf(await serverAvailable('Redis', 6379))(
  'cache telemetry on Redis (127.0.0.1:6379)',
  () => {
    it('puts a client span around each L2 call, under the caller’s span, and counts L2 hits', async () => {
      const namespace = uniqueNamespace('otel');
      const writer = createCache({ redis: REDIS_URL, namespace });
      const reader = createCache({ redis: REDIS_URL, namespace });
      expect(await reader.ready()).toBe(true);
      await writer.set('user-42:profile', { name: 'Ada' });
      // Let the reader hear the writer's invalidation first, so it cannot drop the L1 copy below.
      await new Promise((r) => setTimeout(r, 100));
      const parent = await otel.inSpan('request', async () => {
        expect(await reader.get('user-42:profile')).toEqual({ name: 'Ada' });
      });
      expect(await reader.get('user-42:profile')).toEqual({ name: 'Ada' }); // now from L1

      const [get] = otel.spans('cache l2 get');
      expect(get?.kind).toBe(SPAN_CLIENT);
      expect(get?.parentSpanContext?.spanId).toBe(parent);
      expect(get?.attributes).toEqual({
        'org.cache.driver': 'redis',
        'org.cache.operation': 'get',
        'db.system.name': 'redis',
      });
      expect(otel.spans('cache l2 get')).toHaveLength(1); // the L1 hit made no L2 call
      expect(
        await otel.sum(REQUESTS, { 'org.cache.namespace': namespace, ...req('get', 'hit', 'l2') }),
      ).toBe(1);
      expect(await otel.sum(REQUESTS, req('get', 'hit', 'l1'))).toBe(1);
      expect(await otel.sum(L2_DURATION, { 'org.cache.operation': 'get' })).toBe(1);
      // The writer's set went to Redis too (a plain SET, or SET and PUBLISH in one script).
      expect(otel.spans().some((s) => /^cache l2 (set|commit)$/.test(s.name))).toBe(true);

      // A cold getOrSet: read-or-lock, the loader in its own span, then the write.
      await otel.inSpan('request', async () => {
        await reader.getOrSet('user-42:cold', async () => 'loaded');
      });
      const [lock] = otel.spans('cache l2 getOrLock');
      const [load] = otel.spans('cache load');
      expect(lock?.kind).toBe(SPAN_CLIENT);
      expect(load?.parentSpanContext?.spanId).toBe(lock?.parentSpanContext?.spanId);
      expect(await otel.sum(REQUESTS, req('getOrSet', 'miss'))).toBe(1);
      expect(await otel.sum('org.cache.l2.errors')).toBe(0);

      expect((await reader.health()).available).toBe(true);
      const [ping] = otel.spans('cache l2 ping');
      expect(ping?.attributes['org.cache.l2.available']).toBe(true);
      await expectNoKeys('user-42');
      await writer.close();
      await reader.close();
    });
  },
);

describe.runIf(await programAvailable('redis-server', () => hasCommand('redis-server')))(
  'cache telemetry with a frozen Redis',
  () => {
    it('records the timeout on the L2 span and counter, and the fallback by its code', async () => {
      const server = await startRedisServer();
      const cache = createCache({
        redis: server.url,
        namespace: uniqueNamespace('frozen'),
        timeouts: { command: 100 },
        failureThreshold: 1,
        probeInterval: 60_000,
      });
      try {
        expect(await cache.ready()).toBe(true);
        server.pause();
        expect(await cache.get('user-42:k')).toBeUndefined();
        expect(await otel.sum('org.cache.l2.errors', { 'error.type': 'ERR_TIMEOUT' })).toBe(1);
        const [error] = await otel.points('org.cache.l2.errors');
        expect(error?.attributes).toEqual({
          'org.cache.driver': 'redis',
          'org.cache.operation': 'get',
          'error.type': 'ERR_TIMEOUT',
        });
        expect(
          await otel.sum('org.cache.l2.fallbacks', {
            'org.cache.driver': 'redis',
            'error.type': 'ERR_TIMEOUT',
          }),
        ).toBe(1);
        const [get] = otel.spans('cache l2 get');
        expect(get?.status.code).toBe(STATUS_ERROR);
        expect(get?.attributes['error.type']).toBe('ERR_TIMEOUT');
        expect(await otel.sum(L2_DURATION, { 'error.type': 'ERR_TIMEOUT' })).toBe(1);
        // The get still answered, as a miss.
        expect(await otel.sum(REQUESTS, req('get', 'miss'))).toBe(1);
        // Degraded: the next get skips L2, so no span and no second error.
        expect(await cache.get('user-42:k')).toBeUndefined();
        expect(otel.spans('cache l2 get')).toHaveLength(1);
        expect(await otel.sum('org.cache.l2.errors')).toBe(1);
        await expectNoKeys('user-42');
      } finally {
        server.resume();
        await cache.close();
        await server.stop();
      }
    }, 20_000);
  },
);
