import { createHealth, isHealthError } from '@org/health';
import { redisCheck } from '@org/health/redis';
import {
  freePort,
  hasCommand,
  programAvailable,
  serverAvailable,
  startRedisServer,
} from '@org/test-utils';
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
    const health = createHealth({ checks: { redis: redisCheck({ redis: connect(6379) }) } });
    const r = await health.full();
    expect(r.status).toBe('healthy');
    expect(r.checks.redis?.observedUnit).toBe('ms');
  });

  it("a URL gets a client of its own, closed by close(); the app's client stays open", async () => {
    const own = redisCheck({ redis: 'redis://127.0.0.1:6379' });
    const app = connect(6379);
    const health = createHealth({
      checks: { own, app: redisCheck({ redis: app }) },
      cache: 0,
    });
    // The first report waits for the new connection instead of failing it.
    const r = await health.full();
    expect(r.checks.own?.status).toBe('ok');
    expect(r.checks.app?.status).toBe('ok');
    await health.close();
    await health.close();
    const after = await health.full();
    expect(after.checks.own).toMatchObject({ status: 'fail', reason: 'the check was closed' });
    expect(after.checks.app?.status).toBe('ok');
    expect(app.status).toBe('ready');
  });
});

describe('redisCheck options', () => {
  it('refuses what is neither a redis URL nor a client, without echoing the value', () => {
    for (const redis of ['http://u:hunter2@host', 42, undefined, {}]) {
      let err: unknown;
      try {
        redisCheck({ redis: redis as never });
      } catch (e) {
        err = e;
      }
      expect(isHealthError(err, 'ERR_HEALTH_INVALID_OPTION')).toBe(true);
      expect((err as Error).message).not.toContain('hunter2');
    }
    expect(() => redisCheck({ redis: 'redis://x', timeout: '1 fortnight' as never })).toThrow(
      /`timeout`/,
    );
    expect(() => redisCheck({ client: {} } as never)).toThrow(/`client` was renamed `redis`/);
  });

  it('a URL to a Redis that is down fails within the timeout', async () => {
    const port = await freePort();
    const check = redisCheck({ redis: `redis://:pw-s3cret@127.0.0.1:${port}`, timeout: 300 });
    const health = createHealth({ checks: { redis: check } });
    try {
      const r = await health.full();
      expect(['fail', 'timeout']).toContain(r.checks.redis?.status);
      expect(r.checks.redis?.latencyMs).toBeLessThan(600);
      expect(JSON.stringify(r)).not.toContain('pw-s3cret');
    } finally {
      await health.close();
    }
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
            redis: redisCheck({ redis: connect(server.port), timeout: 200, critical: false }),
          },
          cache: 0,
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
