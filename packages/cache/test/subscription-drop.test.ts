import { createCache } from '@org/cache';
import { hasCommand, programAvailable, startRedisServer } from '@org/test-utils';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { uniqueNamespace, within } from './support/redis.js';

describe.runIf(await programAvailable('redis-server', () => hasCommand('redis-server')))(
  'invalidation channel drops (own redis-server)',
  () => {
    it('flushes L1 when the subscription drops, and again when it is back', async () => {
      const server = await startRedisServer();
      const raw = new Redis(server.url);
      const namespace = uniqueNamespace('drop');
      const cache = createCache({ redis: server.url, namespace });
      try {
        expect(await cache.ready()).toBe(true);
        await cache.set('k', 'v');
        const tiers: string[] = [];
        cache.on('hit', (e) => tiers.push(e.tier));
        expect(await cache.get('k')).toBe('v');
        expect(tiers).toEqual(['l1']);
        // Only the subscriber connection goes; commands keep working.
        await raw.client('KILL', 'TYPE', 'pubsub');
        await within(1_000, async () => {
          tiers.length = 0;
          await cache.get('k');
          return tiers[0] === 'l2';
        });
        // Resubscribed: invalidations from others are seen again.
        await within(
          3_000,
          async () =>
            Number(
              await raw
                .call('PUBSUB', 'NUMSUB', `org-cache:${namespace}:`)
                .then((r) => (r as [string, number])[1]),
            ) === 1,
        );
        const other = createCache({ redis: server.url, namespace });
        expect(await other.ready()).toBe(true);
        await cache.get('k');
        await other.set('k', 'v2');
        await within(1_000, async () => (await cache.get('k')) === 'v2');
        await other.close();
      } finally {
        await cache.close();
        raw.disconnect();
        await server.stop();
      }
    }, 15_000);
  },
);
