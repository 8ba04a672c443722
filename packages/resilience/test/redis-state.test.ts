import { randomUUID } from 'node:crypto';
import { createBreaker, createRegistry } from '@org/resilience';
import { createRedisStateStore, type RedisStateStore } from '@org/resilience/redis';
import { serverAvailable, startRedisServer } from '@org/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';

const REDIS = 'redis://127.0.0.1:6379';
const boom = () => Object.assign(new Error('upstream down'), { status: 503 });
const stores: RedisStateStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

// The shared Redis serves every suite at once in CI: a roomier bound than the 500 ms default
// keeps a busy moment from reading as an outage. The outage test passes its own.
async function instance(prefix: string, url = REDIS, timeout = 2_000) {
  const store = await createRedisStateStore({ redis: url, prefix, timeout });
  stores.push(store);
  return store;
}

describe.runIf(await serverAvailable('Redis', 6379))('shared breaker state on Redis', () => {
  it('when one instance opens a breaker, the other opens too, and closes with it', async () => {
    const prefix = `test:breaker:${randomUUID()}`;
    const [sa, sb] = [await instance(prefix), await instance(prefix)];
    let healthy = false;
    const upstream = vi.fn(async () => {
      if (!healthy) throw boom();
      return 'ok';
    });
    const opts = {
      name: 'llm',
      failureThreshold: 2,
      resetTimeout: 300,
      registry: createRegistry(),
    } as const;
    const a = createBreaker(upstream, { ...opts, sharedState: sa });
    const b = createBreaker(upstream, { ...opts, sharedState: sb });
    const remoteOpen = new Promise((r) => b.on('open', r));
    await a.fire().catch(() => {});
    await a.fire().catch(() => {});
    expect(a.state).toBe('open');
    await expect(remoteOpen).resolves.toMatchObject({ remote: true, trips: 1 });
    expect(b.state).toBe('open');
    await expect(b.fire()).rejects.toMatchObject({ code: 'ERR_RESILIENCE_BREAKER_OPEN' });
    expect(upstream).toHaveBeenCalledTimes(2);

    await new Promise((r) => setTimeout(r, 320));
    healthy = true;
    const remoteClose = new Promise((r) => b.on('close', r));
    await expect(a.fire()).resolves.toBe('ok');
    await expect(remoteClose).resolves.toEqual({ name: 'llm', remote: true });
    expect(b.state).toBe('closed');
    await a.close();
    await b.close();
  });

  it('only one instance at a time sends the half-open probe', async () => {
    const prefix = `test:breaker:${randomUUID()}`;
    const stores = await Promise.all([1, 2, 3].map(() => instance(prefix)));
    let release!: () => void;
    let calls = 0;
    const upstream = async () => {
      calls++;
      if (calls <= 1) throw boom();
      await new Promise<void>((r) => {
        release = r;
      });
      return 'ok';
    };
    const list = stores.map((s) =>
      createBreaker(upstream, {
        name: 'probe',
        failureThreshold: 1,
        resetTimeout: 200,
        registry: createRegistry(),
        sharedState: s,
      }),
    );
    await list[0]?.fire().catch(() => {});
    await vi.waitFor(() => expect(list.map((b) => b.state)).toEqual(['open', 'open', 'open']));
    await new Promise((r) => setTimeout(r, 220));
    const results = Promise.allSettled(list.map((b) => b.fire()));
    await vi.waitFor(() => expect(calls).toBe(2));
    release();
    const settled = await results;
    expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(settled.filter((r) => r.status === 'rejected')).toHaveLength(2);
    expect(calls).toBe(2);
    for (const b of list) await b.close();
  });

  it('an instance started later reads an open period already in force', async () => {
    const prefix = `test:breaker:${randomUUID()}`;
    const sa = await instance(prefix);
    const a = createBreaker(
      async () => {
        throw boom();
      },
      {
        name: 'late',
        failureThreshold: 1,
        resetTimeout: 5_000,
        registry: createRegistry(),
        sharedState: sa,
      },
    );
    await a.fire().catch(() => {});
    // The open period is written in the background; the later instance starts once it is there.
    await vi.waitFor(() => expect(sa.load?.('late')).resolves.toMatchObject({ state: 'open' }));
    const late = createBreaker(async () => 'ok', {
      name: 'late',
      failureThreshold: 1,
      registry: createRegistry(),
      sharedState: await instance(prefix),
    });
    await vi.waitFor(() => expect(late.state).toBe('open'));
    await a.close();
    await late.close();
  });

  it('when Redis hangs or dies, breakers go on deciding alone, in bounded time', async () => {
    const server = await startRedisServer();
    try {
      const store = await instance(`test:breaker:${randomUUID()}`, server.url, 200);
      const b = createBreaker(
        async () => {
          throw boom();
        },
        {
          name: 'alone',
          failureThreshold: 1,
          resetTimeout: 50,
          registry: createRegistry(),
          sharedState: store,
        },
      );
      const errors: unknown[] = [];
      b.on('storeError', ({ error }) => errors.push(error));
      server.pause();
      const t0 = Date.now();
      await b.fire().catch(() => {});
      expect(b.state).toBe('open');
      await new Promise((r) => setTimeout(r, 60));
      // The probe right cannot be had from a frozen Redis: the breaker probes on its own.
      await expect(b.fire()).rejects.toThrow('upstream down');
      expect(Date.now() - t0).toBeLessThan(1_500);
      await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0));
      await server.kill();
      await new Promise((r) => setTimeout(r, 120));
      const t1 = Date.now();
      await expect(b.fire()).rejects.toThrow('upstream down');
      expect(Date.now() - t1).toBeLessThan(1_000);
      await b.close();
    } finally {
      await server.stop();
    }
  });
  it('close() leaves an app’s own client open and closes a client made from a URL', async () => {
    const { Redis } = await import('ioredis');
    const app = new Redis(REDIS);
    try {
      const shared = await createRedisStateStore({ redis: app, prefix: `test:${randomUUID()}` });
      await shared.close();
      await shared.close();
      await expect(app.ping()).resolves.toBe('PONG');
    } finally {
      app.disconnect();
    }
    const own = await createRedisStateStore({ redis: REDIS, prefix: `test:${randomUUID()}` });
    expect(await own.acquireProbe('x', 1_000)).toBe(true);
    await own.close();
    await expect(own.load('x')).rejects.toBeDefined();
  });

  it('refuses a missing or malformed redis option with its own code', async () => {
    await expect(createRedisStateStore({ redis: undefined as never })).rejects.toMatchObject({
      code: 'ERR_RESILIENCE_INVALID_OPTION',
    });
    await expect(createRedisStateStore({ redis: 'http://nope' })).rejects.toMatchObject({
      code: 'ERR_RESILIENCE_INVALID_OPTION',
    });
    await expect(
      createRedisStateStore({ redis: REDIS, timeout: '5 parsecs' as never }),
    ).rejects.toMatchObject({
      code: 'ERR_RESILIENCE_INVALID_OPTION',
      message: expect.stringContaining('timeout'),
    });
  });
});
