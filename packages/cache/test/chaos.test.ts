import { createCache } from '@org/cache';
import { hasCommand, programAvailable, startRedisServer, waitFor } from '@org/test-utils';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { uniqueNamespace } from './support/redis.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(await programAvailable('redis-server', () => hasCommand('redis-server')))(
  'chaos: Redis frozen, killed and restarted under load',
  () => {
    it.each([
      ['a URL (client made by the cache)', 'url'],
      ['an app-made ioredis client with default options (offline queue on)', 'client'],
    ])(
      'with %s: no call throws, every call is bounded, L2 comes back',
      async (_, mode) => {
        const server = await startRedisServer();
        const appClient =
          mode === 'client' ? new Redis(server.url, { lazyConnect: false }) : undefined;
        appClient?.on('error', () => {});
        const namespace = uniqueNamespace('chaos');
        const cache = createCache({
          redis: appClient ?? server.url,
          namespace,
          timeouts: { command: 200, connect: 500 },
          probeInterval: 200,
        });
        const raw = new Redis(server.url, { maxRetriesPerRequest: 1 });
        raw.on('error', () => {});
        try {
          expect(await cache.ready()).toBe(true);
          const events: string[] = [];
          cache.on('degraded', () => events.push('degraded'));
          cache.on('recovered', () => events.push('recovered'));

          let stop = false;
          let calls = 0;
          let slowest = 0;
          const thrown: unknown[] = [];
          const worker = async (w: number) => {
            for (let i = 0; !stop; i++) {
              const key = `k${(w * 7 + i) % 40}`;
              const t0 = performance.now();
              try {
                if (i % 3 === 0) await cache.get(key);
                else if (i % 3 === 1) await cache.set(key, { w, i });
                else expect(await cache.getOrSet(key, async () => ({ w, i }))).toBeDefined();
              } catch (err) {
                thrown.push(err);
              }
              slowest = Math.max(slowest, performance.now() - t0);
              calls++;
              await new Promise((r) => setImmediate(r));
            }
          };
          const workers = Array.from({ length: 25 }, (_, w) => worker(w));
          await sleep(300);
          server.pause();
          await sleep(1_200);
          const callsWhileFrozen = calls;
          await server.kill();
          await sleep(500);
          await server.restart();
          await waitFor(
            'the cache to use Redis again',
            async () => events.includes('recovered'),
            5_000,
          );
          await sleep(300);
          stop = true;
          await Promise.all(workers);

          expect(thrown).toEqual([]);
          expect(slowest).toBeLessThan(1_500);
          expect(callsWhileFrozen).toBeGreaterThan(100);
          expect(events[0]).toBe('degraded');
          expect(events).toContain('recovered');
          // Redis started empty: what is written now lands in it again.
          await cache.set('after', 'back');
          expect(await raw.get(`${namespace}:v:after`)).toMatch(/"back"$/);
          expect(await cache.getOrSet('loaded-after', () => 'fresh')).toBe('fresh');
          expect(await raw.exists(`${namespace}:v:loaded-after`)).toBe(1);
          expect(await raw.dbsize()).toBeGreaterThan(2);
          console.info(
            `[chaos ${mode}] calls=${calls} slowest=${slowest.toFixed(0)}ms events=${events.join(',')}`,
          );
        } finally {
          await cache.close();
          appClient?.disconnect();
          raw.disconnect();
          await server.stop();
        }
      },
      20_000,
    );

    it('a Redis frozen then thawed (SIGSTOP, SIGCONT) is used again without a reconnect', async () => {
      const server = await startRedisServer();
      const namespace = uniqueNamespace('thaw');
      const cache = createCache({
        redis: server.url,
        namespace,
        timeouts: { command: 150 },
        probeInterval: 100,
      });
      const raw = new Redis(server.url, { maxRetriesPerRequest: 1 });
      try {
        expect(await cache.ready()).toBe(true);
        const events: string[] = [];
        cache.on('degraded', () => events.push('degraded'));
        cache.on('recovered', () => events.push('recovered'));
        server.pause();
        const t0 = performance.now();
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) => cache.getOrSet(`k${i}`, () => i)),
        );
        expect(results).toEqual(Array.from({ length: 30 }, (_, i) => i));
        expect(performance.now() - t0).toBeLessThan(1_000);
        expect(events).toEqual(['degraded']);
        // While Redis is frozen, set keeps L1 and get serves it, at once.
        const t1 = performance.now();
        await cache.set('during', { ok: true });
        expect(await cache.get('during')).toEqual({ ok: true });
        expect(await cache.getOrSet('k3', () => 'not called')).toBe(3);
        expect(performance.now() - t1).toBeLessThan(50);
        server.resume();
        await waitFor('recovery', async () => events.includes('recovered'), 3_000);
        await cache.set('after-thaw', 1);
        expect(await raw.exists(`${namespace}:v:after-thaw`)).toBe(1);
      } finally {
        server.resume();
        await cache.close();
        raw.disconnect();
        await server.stop();
      }
    }, 15_000);
  },
);
