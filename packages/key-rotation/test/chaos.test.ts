import { createKeyRing, createRefreshTokens, type KeyRing } from '@org/key-rotation';
import { createRedisKeyStore, createRedisRefreshTokenStore } from '@org/key-rotation/redis';
import { hasCommand, type OwnedServer, programAvailable, startRedisServer } from '@org/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptionKey } from './helpers.js';

const haveRedis = await programAvailable('redis-server', () => hasCommand('redis-server'));

describe.runIf(haveRedis)('Redis store when Redis stalls or dies (own redis-server)', () => {
  let server: OwnedServer & { url: string };
  const clients: Redis[] = [];
  const rings: KeyRing[] = [];
  const client = () => {
    const c = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  const ring = async () => {
    const r = await createKeyRing({
      algorithm: 'ES256',
      encryptionKey,
      store: createRedisKeyStore({ redis: client(), prefix: 'chaos:' }),
      storeTimeout: 300,
      refreshInterval: 100,
    });
    rings.push(r);
    return r;
  };

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    for (const r of rings) await r.close();
    for (const c of clients) c.disconnect();
    await server?.stop();
  });

  it('keeps verifying and signing from memory, fails writes fast, and catches up after', async () => {
    const a = await ring();
    const b = await ring();
    const token = await a.sign({}, { expiresIn: '10m' });
    const errors: string[] = [];
    b.on('error', ({ error }) => errors.push((error as { code?: string }).code ?? error.name));

    server.pause();
    try {
      expect((await b.verify(token)).key.kid).toBe(a.keys()[0]!.kid);
      expect(await b.sign({})).toMatch(/^ey/);
      const t0 = Date.now();
      await expect(a.rotate()).rejects.toMatchObject({ code: 'ERR_TIMEOUT', timeoutMs: 300 });
      expect(Date.now() - t0).toBeLessThan(2000);
      await expect.poll(() => errors.length, { timeout: 3000 }).toBeGreaterThan(0);
      expect(errors[0]).toBe('ERR_TIMEOUT');
    } finally {
      server.resume();
    }

    const next = await a.rotate();
    await expect
      .poll(() => b.keys().find((k) => k.status === 'active')?.kid, { timeout: 5000 })
      .toBe(next.kid);
    expect((await b.verify(token)).payload.exp).toBeTypeOf('number');
  });

  it('a Redis restart (data lost) heals: no key is lost and one key signs', async () => {
    const a = await ring();
    const b = await ring();
    const tokenA = await a.sign({});
    await server.restart();
    // A new instance on the empty Redis starts a fresh ring …
    const c = await ring();
    const tokenC = await c.sign({});
    // … and the running instances write back what only they hold when they next read the store.
    await a.refresh();
    await b.refresh();
    for (const r of [a, b, c]) await r.refresh();
    for (const r of [a, b, c]) {
      expect(
        r
          .keys()
          .filter((k) => k.status === 'active')
          .map((k) => k.kid),
      ).toEqual([c.keys().find((k) => k.status === 'active')!.kid]);
      expect((await r.verify(tokenA)).key.alg).toBe('ES256');
      expect((await r.verify(tokenC)).key.alg).toBe('ES256');
    }
  });

  it('creating a ring against a stalled Redis fails fast instead of hanging', async () => {
    server.pause();
    try {
      const t0 = Date.now();
      await expect(ring()).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      server.resume();
    }
  });

  it('refresh tokens fail fast with core TimeoutError while Redis stalls', async () => {
    const tokens = createRefreshTokens({
      store: createRedisRefreshTokenStore({ redis: client(), prefix: 'chaos-rt:' }),
      timeout: '300ms',
    });
    const login = await tokens.issue('u');
    server.pause();
    try {
      const t0 = Date.now();
      await expect(tokens.rotate(login.token)).rejects.toMatchObject({
        code: 'ERR_TIMEOUT',
        timeoutMs: 300,
      });
      expect(Date.now() - t0).toBeLessThan(2000);
      const timedOut = tokens.rotate(login.token, { signal: AbortSignal.timeout(20) });
      await expect(timedOut).rejects.toMatchObject({ name: 'TimeoutError', code: 'ERR_TIMEOUT' });
      const controller = new AbortController();
      const aborted = tokens.rotate(login.token, { signal: controller.signal });
      const reason = new Error('user went away');
      controller.abort(reason);
      await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED', cause: reason });
    } finally {
      server.resume();
    }
  });

  it('a store given a URL bounds its commands: a stalled Redis fails fast with TimeoutError', async () => {
    const store = createRedisKeyStore({ redis: server.url, prefix: 'chaos-url:' });
    const r = await createKeyRing({ algorithm: 'ES256', encryptionKey, store, refreshInterval: 0 });
    rings.push(r);
    server.pause();
    try {
      const t0 = Date.now();
      // storeTimeout is the default 5 s: the client's own command timeout answers first.
      await expect(r.rotate()).rejects.toMatchObject({ code: 'ERR_TIMEOUT', name: 'TimeoutError' });
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      server.resume();
    }
    expect((await r.rotate()).status).toBe('active');
    await store.close?.();
  });
});
