import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createFileKeyStore,
  createKeyRing,
  createKeyRingFromEnv,
  createMemoryKeyStore,
  type KeyStore,
} from '@org/key-rotation';
import { createRedisKeyStore } from '@org/key-rotation/redis';
import { keyStoreConformance } from '@org/key-rotation/testing';
import { serverAvailable } from '@org/test-utils';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deletePrefix, encryptionKey, uniquePrefix } from './helpers.js';

const redisUp = await serverAvailable('Redis', 6379);
const dirs: string[] = [];
const clients: Redis[] = [];
const prefixes: string[] = [];
/** One client the app holds: stores use it, and must leave it open. */
const appClient = () => {
  if (!clients[0]) clients.push(new Redis('redis://127.0.0.1:6379'));
  return clients[0]!;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  if (redisUp) for (const prefix of prefixes) await deletePrefix(appClient(), prefix);
  for (const c of clients) c.disconnect();
});

const REDIS_URL = 'redis://127.0.0.1:6379';
const vitest = { describe, it, expect };

keyStoreConformance(
  'memory',
  () => {
    const store = createMemoryKeyStore();
    return () => store;
  },
  vitest,
);

keyStoreConformance(
  'file',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyring-'));
    dirs.push(dir);
    return () => createFileKeyStore({ path: join(dir, 'ring.json') });
  },
  vitest,
);

keyStoreConformance(
  'redis (from a URL)',
  () => {
    const prefix = uniquePrefix('store');
    prefixes.push(prefix);
    return () => createRedisKeyStore({ redis: REDIS_URL, prefix });
  },
  { ...vitest, describe: describe.runIf(redisUp) },
);

keyStoreConformance(
  "redis (the app's client)",
  () => {
    const prefix = uniquePrefix('store-client');
    prefixes.push(prefix);
    return () => createRedisKeyStore({ redis: appClient(), prefix });
  },
  { ...vitest, describe: describe.runIf(redisUp) },
);

describe.runIf(redisUp)('Redis store pub/sub', () => {
  it('another instance sees a rotation through pub/sub alone (polling off) in well under a second', async () => {
    const prefix = uniquePrefix('pubsub');
    prefixes.push(prefix);
    const make = () => {
      const client = new Redis('redis://127.0.0.1:6379');
      clients.push(client);
      return createRedisKeyStore({ redis: client, prefix });
    };
    const opts = { algorithm: 'EdDSA' as const, encryptionKey, refreshInterval: 0 };
    const a = await createKeyRing({ ...opts, store: make() });
    const b = await createKeyRing({ ...opts, store: make() });
    await new Promise((r) => setTimeout(r, 100)); // let b's subscriber connect
    const changes: number[] = [];
    b.on('change', (e) => changes.push(e.version));
    const t0 = Date.now();
    const next = await a.rotate();
    await expect
      .poll(() => b.keys().find((k) => k.status === 'active')?.kid, { timeout: 1000, interval: 5 })
      .toBe(next.kid);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(changes).toHaveLength(1);
    await a.close();
    await b.close();
  });
});

describe('stores', () => {
  it('a ring with a store needs an encryption key; only createKeyRingFromEnv reads the environment', async () => {
    const before = process.env.KEYRING_ENCRYPTION_KEY;
    process.env.KEYRING_ENCRYPTION_KEY = encryptionKey;
    try {
      // The plain factory never reads the environment, even with the variable set.
      await expect(createKeyRing({ store: createMemoryKeyStore() })).rejects.toMatchObject({
        code: 'ERR_KEY_ROTATION_INVALID_OPTION',
        message: expect.stringMatching(/encryptionKey.*KEYRING_ENCRYPTION_KEY/),
      });
      const ring = await createKeyRingFromEnv({
        algorithm: 'HS256',
        store: createMemoryKeyStore(),
      });
      expect(ring.keys()).toHaveLength(1);
    } finally {
      if (before === undefined) delete process.env.KEYRING_ENCRYPTION_KEY;
      else process.env.KEYRING_ENCRYPTION_KEY = before;
    }
    const store = createMemoryKeyStore();
    await expect(createKeyRingFromEnv({ store, env: {} })).rejects.toThrow(
      /KEYRING_ENCRYPTION_KEY/,
    );
    await expect(
      createKeyRingFromEnv({ store, env: { KEYRING_ENCRYPTION_KEY: 'too-short' } }),
    ).rejects.toThrow(/32 bytes/);
    // A comma-separated list re-keys: the first seals, every one opens.
    const oldKey = Buffer.alloc(32, 6).toString('base64');
    await createKeyRing({ algorithm: 'HS256', store, encryptionKey: oldKey });
    const rekeyed = await createKeyRingFromEnv({
      store,
      env: { KEYRING_ENCRYPTION_KEY: `${encryptionKey}, ${oldKey}` },
    });
    await rekeyed.rotate();
    expect(rekeyed.keys()).toHaveLength(2);
    await expect(createKeyRing({ store, encryptionKey: oldKey })).rejects.toMatchObject({
      code: 'ERR_KEY_ROTATION_ENCRYPTION',
    });
  });

  it('a stalled store: core TimeoutError past storeTimeout, core AbortedError on abort', async () => {
    const stalled: KeyStore = {
      load: () => new Promise(() => undefined),
      compareAndSet: () => new Promise(() => undefined),
    };
    const opts = { algorithm: 'HS256' as const, encryptionKey, store: stalled };
    const t0 = Date.now();
    await expect(createKeyRing({ ...opts, storeTimeout: '50ms' })).rejects.toMatchObject({
      name: 'TimeoutError',
      code: 'ERR_TIMEOUT',
      timeoutMs: 50,
      message: expect.stringMatching(/storeTimeout/),
    });
    expect(Date.now() - t0).toBeLessThan(1000);
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const pending = createKeyRing({ ...opts, signal: controller.signal });
    controller.abort(reason);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED', cause: reason });
    // What the store itself throws is ERR_KEY_ROTATION_STORE, with the store's error as cause.
    const failure = new Error('disk on fire');
    const broken: KeyStore = {
      load: () => Promise.reject(failure),
      compareAndSet: async () => false,
    };
    await expect(createKeyRing({ ...opts, store: broken })).rejects.toMatchObject({
      code: 'ERR_KEY_ROTATION_STORE',
      cause: failure,
    });
  });

  it('re-keying: the first encryption key seals, older ones open, writes re-seal', async () => {
    const store = createMemoryKeyStore();
    const oldKey = Buffer.alloc(32, 5);
    const a = await createKeyRing({ algorithm: 'HS256', store, encryptionKey: oldKey });
    const b = await createKeyRing({
      algorithm: 'HS256',
      store,
      encryptionKey: [encryptionKey, oldKey],
    });
    await b.rotate();
    expect(b.keys()).toHaveLength(2);
    // Every key was re-sealed under the new key by that write: the old key can go.
    const c = await createKeyRing({ algorithm: 'HS256', store, encryptionKey });
    expect(c.keys()).toHaveLength(2);
    await expect(createKeyRing({ store, encryptionKey: oldKey })).rejects.toMatchObject({
      code: 'ERR_KEY_ROTATION_ENCRYPTION',
    });
    await a.close();
  });

  it('the file store writes a 0600 file and breaks a stale lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyring-'));
    dirs.push(dir);
    const path = join(dir, 'ring.json');
    const { writeFile, utimes } = await import('node:fs/promises');
    await writeFile(`${path}.lock`, '999999');
    const old = new Date(Date.now() - 60_000);
    await utimes(`${path}.lock`, old, old);
    const ring = await createKeyRing({
      algorithm: 'HS256',
      encryptionKey,
      store: createFileKeyStore({ path }),
    });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    // A fresh ring's first version is random (see RingState).
    const { version } = JSON.parse(await readFile(path, 'utf8')) as { version: number };
    expect(version).toBeGreaterThanOrEqual(1);
    await writeFile(`${path}.lock`, '1');
    const store = createFileKeyStore({ path, lockTimeout: '100ms' });
    await expect(
      store.compareAndSet(version, { version: version + 1, keys: [] }),
    ).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
      name: 'TimeoutError',
      timeoutMs: 100,
    });
    await ring.close();
  });
});

describe('Redis store connections', () => {
  it('refuses a redis option that is neither a URL nor a client, at construction', () => {
    for (const redis of ['127.0.0.1:6379', 'http://x', {} as never]) {
      expect(() => createRedisKeyStore({ redis })).toThrow(
        expect.objectContaining({ code: 'ERR_KEY_ROTATION_INVALID_OPTION' }),
      );
    }
  });

  it.runIf(redisUp)(
    "close() quits a client made from a URL and leaves the app's open",
    async () => {
      const prefix = uniquePrefix('close');
      prefixes.push(prefix);
      const own = createRedisKeyStore({ redis: REDIS_URL, prefix });
      expect(await own.compareAndSet(0, { version: 1, keys: [] })).toBe(true);
      await own.close?.();
      await expect(own.load()).rejects.toThrow();
      const client = new Redis(REDIS_URL);
      clients.push(client);
      const theirs = createRedisKeyStore({ redis: client, prefix });
      expect((await theirs.load())?.version).toBe(1);
      await theirs.close?.();
      await theirs.close?.();
      expect(await client.ping()).toBe('PONG');
    },
  );
});
