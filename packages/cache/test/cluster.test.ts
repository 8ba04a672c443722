import { createCache } from '@org/cache';
import { createRedisDriver } from '@org/cache/redis';
import { driverConformance } from '@org/cache/testing';
import { hasCommand, programAvailable } from '@org/test-utils';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OwnedCluster, startRedisCluster } from './support/cluster.js';
import { uniqueNamespace, within } from './support/redis.js';

// Cluster setup costs a few seconds: once per CI run (not again against the built package).
const enabled =
  process.env.ORG_TEST_DIST !== '1' &&
  (await programAvailable(
    'redis-server and redis-cli',
    async () => (await hasCommand('redis-server')) && (await hasCommand('redis-cli')),
  ));

describe.runIf(enabled)('Redis Cluster (own 3-master cluster)', () => {
  let cluster: OwnedCluster;
  const clients: Cluster[] = [];
  const connect = () => {
    const c = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    c.on('error', () => {});
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 30_000);
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await cluster?.stop();
  });

  driverConformance('redis cluster', () => createRedisDriver(connect()), { describe, it, expect });

  it('two caches on a Cluster: invalidation, tags, clear and the loader lock', async () => {
    const namespace = uniqueNamespace('cluster');
    const a = createCache({ redis: connect(), namespace });
    const b = createCache({ redis: connect(), namespace });
    try {
      expect(await a.ready()).toBe(true);
      expect(await b.ready()).toBe(true);
      expect((await a.health()).available).toBe(true);
      for (let i = 0; i < 20; i++) await a.set(`k${i}`, i, { tags: ['all'] });
      expect(await b.get('k7')).toBe(7);
      await a.set('k7', 'seven');
      await within(1_000, async () => (await b.get('k7')) === 'seven');
      await b.deleteByTag('all');
      await within(1_000, async () => (await a.get('k3')) === undefined);
      await a.set('x', 1);
      await b.clear();
      await within(1_000, async () => (await a.get('x')) === undefined);
      let runs = 0;
      const loader = async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 100));
        return 'once';
      };
      const all = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).getOrSet('cold', loader)),
      );
      expect(new Set(all)).toEqual(new Set(['once']));
      expect(runs).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
