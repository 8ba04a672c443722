import { createHealth } from '@org/health';
import { redisCheck } from '@org/health/redis';
import { hasCommand, programAvailable, serverAvailable, startRedisServer } from '@org/test-utils';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

const clients: Redis[] = [];
const connect = (port: number) => {
  const c = new Redis({
    port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 1,
    retryStrategy: () => 100,
  });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
};
afterAll(() => {
  for (const c of clients) c.disconnect();
});

describe.runIf(await serverAvailable('Redis', 6379))('redisCheck on the shared Redis', () => {
  it('passes with PING', async () => {
    const health = createHealth({ checks: { redis: redisCheck({ client: connect(6379) }) } });
    const r = await health.full();
    expect(r.status).toBe('healthy');
    expect(r.checks.redis?.observedUnit).toBe('ms');
  });
});

describe.runIf(await programAvailable('redis-server', () => hasCommand('redis-server')))(
  'redisCheck on a Redis this suite stops',
  () => {
    it('reports timeout while it is frozen, fail once killed, ok after restart', async () => {
      const server = await startRedisServer();
      try {
        const health = createHealth({
          checks: {
            redis: redisCheck({ client: connect(server.port), timeout: 200, critical: false }),
          },
          cacheMs: 0,
        });
        expect((await health.full()).status).toBe('healthy');

        server.pause();
        const frozen = await health.full();
        expect(frozen.status).toBe('degraded');
        expect(frozen.checks.redis?.status).toBe('timeout');
        server.resume();

        await server.kill();
        await new Promise((r) => setTimeout(r, 100));
        const down = await health.full();
        expect(down.checks.redis).toMatchObject({ status: 'fail' });
        expect(down.checks.redis?.latencyMs).toBeLessThan(150);

        await server.restart();
        const deadline = Date.now() + 5_000;
        let back = await health.full();
        while (back.status !== 'healthy' && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          back = await health.full();
        }
        expect(back.status).toBe('healthy');
      } finally {
        await server.stop();
      }
    });
  },
);
