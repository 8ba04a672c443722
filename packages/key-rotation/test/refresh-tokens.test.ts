import { createMemoryRefreshTokenStore, createRefreshTokens } from '@org/key-rotation';
import { createRedisRefreshTokenStore } from '@org/key-rotation/redis';
import { refreshTokenStoreConformance } from '@org/key-rotation/testing';
import { serverAvailable } from '@org/test-utils';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deletePrefix, manualClock, uniquePrefix } from './helpers.js';

const redisUp = await serverAvailable('Redis', 6379);
const REDIS_URL = 'redis://127.0.0.1:6379';
const clients: Redis[] = [];
const prefixes: string[] = [];
/** One client the app holds: stores use it, and must leave it open. */
const appClient = () => {
  if (!clients[0]) clients.push(new Redis(REDIS_URL));
  return clients[0]!;
};
afterAll(async () => {
  if (redisUp) for (const prefix of prefixes) await deletePrefix(appClient(), prefix);
  for (const c of clients) c.disconnect();
});

const vitest = { describe, it, expect };
const redisVitest = { ...vitest, describe: describe.runIf(redisUp) };
const prefix = (name: string) => {
  const p = uniquePrefix(name);
  prefixes.push(p);
  return p;
};

refreshTokenStoreConformance('memory', () => createMemoryRefreshTokenStore(), vitest);
refreshTokenStoreConformance(
  'redis (from a URL)',
  () => createRedisRefreshTokenStore({ redis: REDIS_URL, prefix: prefix('rt') }),
  redisVitest,
);
refreshTokenStoreConformance(
  "redis (the app's client)",
  () => createRedisRefreshTokenStore({ redis: appClient(), prefix: prefix('rt-client') }),
  redisVitest,
);

describe('the memory refresh-token store', () => {
  it('reads expiries against its clock', async () => {
    const clock = manualClock();
    const store = createMemoryRefreshTokenStore({ clock });
    const tokens = createRefreshTokens({ store, clock, ttl: '1m' });
    const login = await tokens.issue('u');
    clock.advance(60_000);
    await expect(tokens.rotate(login.token)).rejects.toMatchObject({
      code: 'ERR_KEY_ROTATION_REFRESH_TOKEN_INVALID',
    });
    await tokens.revokeFamily(login.familyId);
    clock.advance(90 * 86_400_000);
    expect(await store.isFamilyRevoked(login.familyId)).toBe(false);
  });

  it('refuses duration options it cannot read, naming them', () => {
    expect(() => createRefreshTokens({ ttl: 'forever' as never })).toThrow(/`ttl`/);
    expect(() => createRefreshTokens({ reuseInterval: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_ROTATION_INVALID_OPTION' }),
    );
    expect(() => createRefreshTokens({ clock: Date.now as never })).toThrow(/`clock`/);
  });
});

describe.runIf(redisUp)('Redis stores from a URL', () => {
  it('create their own client and close it', async () => {
    const store = createRedisRefreshTokenStore({ redis: REDIS_URL, prefix: prefix('url') });
    const tokens = createRefreshTokens({ store });
    const a = await tokens.issue('url-user');
    expect((await tokens.rotate(a.token)).subject).toBe('url-user');
    await store.close?.();
    await expect(tokens.issue('x')).rejects.toMatchObject({ code: 'ERR_KEY_ROTATION_STORE' });
  });
});
