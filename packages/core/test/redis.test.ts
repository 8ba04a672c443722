import { freePort, serverAvailable } from '@org/test-utils';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isOrgError, OrgError } from '../src/index.js';
import {
  boundedRedisOptions,
  connectRedis,
  isRedisClient,
  REDIS_DEFAULTS,
  redactRedisUrl,
} from '../src/redis.js';

class PkgError extends OrgError<'ERR_PKG_INVALID_OPTION'> {}
const fail = (m: string) => new PkgError('ERR_PKG_INVALID_OPTION', m);

describe('bounded Redis options', () => {
  it('never queue offline and bound every wait', () => {
    const o = boundedRedisOptions();
    expect(o).toMatchObject({
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      commandTimeout: REDIS_DEFAULTS.commandTimeoutMs,
      connectTimeout: REDIS_DEFAULTS.connectTimeoutMs,
      maxRetriesPerRequest: 1,
    });
    expect(o.retryStrategy?.(1)).toBe(50);
    expect(o.retryStrategy?.(1_000)).toBe(REDIS_DEFAULTS.maxReconnectDelayMs);
  });

  it('take Durations, and the bounds win over redisOptions', () => {
    const o = boundedRedisOptions({
      commandTimeout: '250ms',
      connectTimeout: '2s',
      maxReconnectDelay: 300,
      redisOptions: { enableOfflineQueue: true, commandTimeout: 99_999, db: 3 },
    });
    expect(o).toMatchObject({
      commandTimeout: 250,
      connectTimeout: 2_000,
      enableOfflineQueue: false,
      db: 3,
    });
    expect(o.retryStrategy?.(100)).toBe(300);
  });

  it('refuse bad bounds with the package error', () => {
    expect(() => boundedRedisOptions({ commandTimeout: 'fast' as never }, fail)).toThrow(PkgError);
    expect(() => boundedRedisOptions({ connectTimeout: 0 }, fail)).toThrow('`connectTimeout`');
  });
});

describe('connectRedis', () => {
  it('refuses what is neither a URL nor a client, without echoing it', async () => {
    for (const bad of ['localhost:6379', 'http://x', 42, {}, null]) {
      const err = await connectRedis(bad as never, {}, fail).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PkgError);
      expect((err as Error).message).not.toContain('localhost');
    }
    const core = await connectRedis('nope' as never).catch((e: unknown) => e);
    expect(isOrgError(core, 'ERR_CORE_INVALID_ARGUMENT')).toBe(true);
  });

  it('a command on a dead Redis rejects within the bounds instead of hanging', async () => {
    const port = await freePort();
    const h = await connectRedis(`redis://127.0.0.1:${port}`, {
      connectTimeout: 200,
      commandTimeout: 100,
    });
    expect(h.owned).toBe(true);
    expect(await h.ready(150)).toBe(false);
    const started = performance.now();
    await expect(h.client.get('k')).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(2_000);
    await h.close();
    await h.close();
  });

  it('masks the password of a URL', () => {
    expect(redactRedisUrl('redis://user:s3cr%23t@host:6379/0')).toBe(
      'redis://user:***@host:6379/0',
    );
    expect(redactRedisUrl('rediss://:only-pass@host')).toBe('rediss://***@host');
    expect(redactRedisUrl('redis://host:6379')).toBe('redis://host:6379');
  });
});

describe.runIf(await serverAvailable('Redis', 6379))('connectRedis on a live Redis', () => {
  it('creates, uses and closes its own client', async () => {
    const h = await connectRedis('redis://127.0.0.1:6379');
    expect(isRedisClient(h.client)).toBe(true);
    expect(await h.ready()).toBe(true);
    await h.client.set('org:core:test', '1', 'EX', 5);
    expect(await h.client.get('org:core:test')).toBe('1');
    await h.close();
    expect(h.client.status).toBe('end');
    expect(await h.ready()).toBe(false);
  });

  it("uses the app's client as is and leaves it open", async () => {
    const app = new Redis('redis://127.0.0.1:6379');
    try {
      const h = await connectRedis(app);
      expect(h.owned).toBe(false);
      expect(h.client).toBe(app);
      expect(await h.ready()).toBe(true);
      await h.close();
      expect(await app.ping()).toBe('PONG');
    } finally {
      app.disconnect();
    }
  });
});
