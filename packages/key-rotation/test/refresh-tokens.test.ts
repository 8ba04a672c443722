import {
  createMemoryRefreshTokenStore,
  createRefreshTokens,
  type RefreshTokenStore,
} from '@org/key-rotation';
import { createRedisRefreshTokenStore } from '@org/key-rotation/redis';
import { serverAvailable } from '@org/test-utils';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deletePrefix, uniquePrefix } from './helpers.js';

const redisUp = await serverAvailable('Redis', 6379);
const clients: Redis[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  if (clients[0]) for (const prefix of prefixes) await deletePrefix(clients[0], prefix);
  for (const c of clients) c.disconnect();
});

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code,
  );

const backends: { name: string; enabled: boolean; make: () => RefreshTokenStore }[] = [
  { name: 'memory', enabled: true, make: () => createMemoryRefreshTokenStore() },
  {
    name: 'redis',
    enabled: redisUp,
    make: () => {
      const client = new Redis('redis://127.0.0.1:6379');
      clients.push(client);
      const prefix = uniquePrefix('rt');
      prefixes.push(prefix);
      return createRedisRefreshTokenStore({ client, prefix });
    },
  },
];

describe.each(backends)('refresh tokens on $name', ({ enabled, make }) => {
  it.runIf(enabled)('rotates tokens within a family and carries subject and data', async () => {
    const tokens = createRefreshTokens({ store: make() });
    const a = await tokens.issue('user-1', { data: { device: 'phone' } });
    expect(a.token).toMatch(/^rt1_/);
    const b = await tokens.rotate(a.token);
    expect(b).toMatchObject({ subject: 'user-1', familyId: a.familyId, data: { device: 'phone' } });
    expect(b.token).not.toBe(a.token);
    const c = await tokens.rotate(b.token);
    expect(c.familyId).toBe(a.familyId);
  });

  it.runIf(enabled)('a token used twice revokes its whole family', async () => {
    const tokens = createRefreshTokens({ store: make() });
    const reuses: unknown[] = [];
    tokens.on('reuse', (e) => reuses.push(e));
    const a = await tokens.issue('user-2');
    const b = await tokens.rotate(a.token);
    expect(await code(tokens.rotate(a.token))).toBe('ERR_REFRESH_TOKEN_REUSED');
    expect(reuses).toEqual([{ familyId: a.familyId, subject: 'user-2' }]);
    // The thief's (or the user's) newer token of that family is dead too.
    expect(await code(tokens.rotate(b.token))).toBe('ERR_REFRESH_TOKEN_REVOKED');
    // Other families are untouched.
    const other = await tokens.issue('user-2');
    expect(await code(tokens.rotate(other.token))).toBe('ok');
  });

  it.runIf(enabled)('two concurrent rotations of one token: exactly one wins', async () => {
    const tokens = createRefreshTokens({ store: make() });
    const a = await tokens.issue('user-3');
    const results = await Promise.all([code(tokens.rotate(a.token)), code(tokens.rotate(a.token))]);
    expect(results.sort()).toEqual(['ERR_REFRESH_TOKEN_REUSED', 'ok']);
  });

  it.runIf(enabled)(
    'refuses forged, malformed and expired tokens without burning the real one',
    async () => {
      let now = Date.now();
      const tokens = createRefreshTokens({ store: make(), ttl: 60_000, clock: () => now });
      const a = await tokens.issue('user-4');
      const [id] = a.token.split('.');
      const forged = `${id}.${'A'.repeat(43)}`;
      expect(await code(tokens.rotate(forged))).toBe('ERR_REFRESH_TOKEN_INVALID');
      for (const bad of ['', 'rt1_x.y', a.token.slice(0, -1), `${a.token}x`]) {
        expect(await code(tokens.rotate(bad))).toBe('ERR_REFRESH_TOKEN_INVALID');
      }
      const b = await tokens.rotate(a.token);
      now += 61_000;
      expect(await code(tokens.rotate(b.token))).toBe('ERR_REFRESH_TOKEN_INVALID');
    },
  );

  it.runIf(enabled)('revokeFamily logs a family out', async () => {
    const tokens = createRefreshTokens({ store: make() });
    const a = await tokens.issue('user-5');
    await tokens.revokeFamily(a.familyId);
    expect(await code(tokens.rotate(a.token))).toBe('ERR_REFRESH_TOKEN_REVOKED');
  });

  it.runIf(enabled)(
    'reuseInterval: a retry soon after the first use gets a token, later ones revoke',
    async () => {
      let now = Date.now();
      const tokens = createRefreshTokens({
        store: make(),
        reuseInterval: 10_000,
        clock: () => now,
      });
      const a = await tokens.issue('user-6');
      const b = await tokens.rotate(a.token);
      now += 5_000;
      const retry = await tokens.rotate(a.token);
      expect(retry.familyId).toBe(b.familyId);
      expect(retry.token).not.toBe(b.token);
      now += 5_000;
      expect(await code(tokens.rotate(a.token))).toBe('ERR_REFRESH_TOKEN_REUSED');
      expect(await code(tokens.rotate(retry.token))).toBe('ERR_REFRESH_TOKEN_REVOKED');
    },
  );
});

describe.runIf(redisUp)('Redis stores from a URL', () => {
  it('create their own client and close it', async () => {
    const prefix = uniquePrefix('url');
    prefixes.push(prefix);
    const store = createRedisRefreshTokenStore({ url: 'redis://127.0.0.1:6379', prefix });
    const tokens = createRefreshTokens({ store });
    const a = await tokens.issue('url-user');
    expect((await tokens.rotate(a.token)).subject).toBe('url-user');
    await store.close?.();
    await expect(tokens.issue('x')).rejects.toMatchObject({ code: 'ERR_KEYRING_STORE' });
  });
});
