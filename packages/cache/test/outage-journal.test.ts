import { type Cache, createCache } from '@org/cache';
import { hasCommand, programAvailable, startRedisServer, waitFor } from '@org/test-utils';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { uniqueNamespace } from './support/redis.js';

type Server = Awaited<ReturnType<typeof startRedisServer>>;

/** Resolves once `cache` has emitted `event` (listening starts now). */
const once = (cache: Cache, event: 'degraded' | 'recovered') =>
  new Promise<void>((resolve) => {
    const off = cache.on(event, () => {
      off();
      resolve();
    });
  });

describe.runIf(await programAvailable('redis-server', () => hasCommand('redis-server')))(
  'writes made while Redis is unreachable reach it before it is read again',
  () => {
    let server: Server | undefined;
    let open: Cache[] = [];
    let raw: Redis | undefined;
    afterEach(async () => {
      server?.resume();
      await Promise.all(open.map((c) => c.close()));
      open = [];
      raw?.disconnect();
      await server?.stop();
    });

    const setup = async (extra: Parameters<typeof createCache>[0] = {}) => {
      server = await startRedisServer();
      const namespace = uniqueNamespace('journal');
      const options = {
        redis: server.url,
        namespace,
        timeouts: { command: 150, connect: 500 },
        probeInterval: 100,
        ...extra,
      };
      const a = createCache(options);
      const b = createCache(options);
      open.push(a, b);
      raw = new Redis(server.url, { maxRetriesPerRequest: 1 });
      raw.on('error', () => {});
      expect(await a.ready()).toBe(true);
      expect(await b.ready()).toBe(true);
      return { a, b, namespace, raw, server };
    };

    it('Redis frozen: delete, set and deleteByTag on one instance; the other never sees the old values after recovery', async () => {
      const { a, b, namespace, raw, server } = await setup();
      await a.set('deleted', 'old');
      await a.set('overwritten', 'old');
      await a.set('tagged', 'old', { tags: ['t'] });
      await a.set('untouched', 'kept');
      for (const k of ['deleted', 'overwritten', 'tagged']) expect(await b.get(k)).toBe('old');

      const aDown = once(a, 'degraded');
      const bDown = once(b, 'degraded');
      server.pause();
      // Calls that time out degrade each instance; a's first write is one of them.
      await Promise.all([a.delete('deleted'), b.get('x'), b.get('y'), b.get('z')]);
      await a.get('x');
      await a.get('y');
      await Promise.all([aDown, bDown]);
      await a.set('overwritten', 'new');
      await a.deleteByTag('t');
      expect(await a.get('overwritten')).toBe('new'); // L1, while Redis is out

      const aUp = once(a, 'recovered');
      const bUp = once(b, 'recovered');
      server.resume();
      await Promise.all([aUp, bUp]);

      // In Redis: deleted, tagged gone; the old `overwritten` gone too (the new one lived in a's
      // L1 only); what nobody touched is still there.
      expect(await raw.exists(`${namespace}:v:deleted`)).toBe(0);
      expect(await raw.exists(`${namespace}:v:tagged`)).toBe(0);
      expect(await raw.exists(`${namespace}:v:overwritten`)).toBe(0);
      for (const c of [a, b]) {
        expect(await c.get('deleted')).toBeUndefined();
        expect(await c.get('tagged')).toBeUndefined();
        expect(await c.get('overwritten')).not.toBe('old');
        expect(await c.get('untouched')).toBe('kept');
      }
    }, 15_000);

    it('Redis killed and restarted with its old data: the journal is replayed before L2 is read', async () => {
      // A long probe interval leaves time to put the old data back, as a Redis that persisted
      // it (or a replica promoted in its place) would have it.
      const { a, b, namespace, raw, server } = await setup({ probeInterval: 3_000 });
      await a.set('deleted', 'old');
      await a.set('cleared', 'old', { tags: ['t'] });
      expect(await b.get('deleted')).toBe('old');
      const before = new Map<string, string>();
      for (const k of ['deleted', 'cleared']) {
        before.set(k, (await raw.get(`${namespace}:v:${k}`)) as string);
      }

      const aDown = once(a, 'degraded');
      let recoveredAt = Number.POSITIVE_INFINITY;
      const aUp = once(a, 'recovered').then(() => {
        recoveredAt = performance.now();
      });
      await server.kill();
      // The first write may fail before the client has seen the connection go: it is
      // journaled all the same.
      await a.delete('deleted');
      for (let i = 0; i < 5; i++) await a.get('x');
      await aDown;
      await a.clear();
      await server.restart();
      // A fresh client: the old one may be in a reconnect backoff.
      const seeder = new Redis(server.url, { maxRetriesPerRequest: 1 });
      for (const [k, v] of before) await seeder.set(`${namespace}:v:${k}`, v);
      seeder.disconnect();
      const seededAt = performance.now();
      await aUp;
      // Otherwise this run proved nothing: the old data came back after the replay.
      expect(seededAt).toBeLessThan(recoveredAt);

      await waitFor('b to use Redis again', async () => (await b.health()).available, 5_000);
      expect(await raw.exists(`${namespace}:v:deleted`)).toBe(0);
      expect(await raw.exists(`${namespace}:v:cleared`)).toBe(0);
      for (const c of [a, b]) {
        expect(await c.get('deleted')).toBeUndefined();
        expect(await c.get('cleared')).toBeUndefined();
      }
    }, 15_000);

    it('past `outageJournal` records, recovery clears the namespace instead (and only it)', async () => {
      const { a, b, namespace, raw, server } = await setup({ outageJournal: 2 });
      for (const k of ['k1', 'k2', 'k3', 'other']) await a.set(k, 'old');
      await raw.set('unrelated', 'stays');
      const aDown = once(a, 'degraded');
      server.pause();
      await a.get('x');
      await a.get('y');
      await a.get('z');
      await aDown;
      for (const k of ['k1', 'k2', 'k3']) await a.delete(k);
      const aUp = once(a, 'recovered');
      server.resume();
      await aUp;
      expect(await raw.keys(`${namespace}:*`)).toEqual([]);
      expect(await raw.get('unrelated')).toBe('stays');
      await waitFor('b to use Redis again', async () => (await b.health()).available, 5_000);
      expect(await b.get('other')).toBeUndefined();
      expect(await b.get('k3')).toBeUndefined();
    }, 15_000);

    it('refuses a bad outageJournal', () => {
      expect(() => createCache({ outageJournal: -1 })).toThrow(/outageJournal/);
    });
  },
);
