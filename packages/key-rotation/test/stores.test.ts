import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createFileKeyStore,
  createKeyRing,
  createMemoryKeyStore,
  type KeyRing,
  type KeyStore,
} from '@org/key-rotation';
import { createRedisKeyStore } from '@org/key-rotation/redis';
import { serverAvailable } from '@org/test-utils';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeHeader, deletePrefix, encryptionKey, uniquePrefix } from './helpers.js';

const redisUp = await serverAvailable('Redis', 6379);
const dirs: string[] = [];
const clients: Redis[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  if (clients[0]) for (const prefix of prefixes) await deletePrefix(clients[0], prefix);
  for (const c of clients) c.disconnect();
});

interface Backend {
  name: string;
  enabled: boolean;
  /** A factory of stores that all see the same ring (as separate instances would). */
  shared(): Promise<() => KeyStore>;
}

const backends: Backend[] = [
  {
    name: 'memory',
    enabled: true,
    async shared() {
      const store = createMemoryKeyStore();
      return () => store;
    },
  },
  {
    name: 'file',
    enabled: true,
    async shared() {
      const dir = await mkdtemp(join(tmpdir(), 'keyring-'));
      dirs.push(dir);
      return () => createFileKeyStore({ path: join(dir, 'ring.json') });
    },
  },
  {
    name: 'redis',
    enabled: redisUp,
    async shared() {
      const prefix = uniquePrefix('store');
      prefixes.push(prefix);
      return () => {
        const client = new Redis('redis://127.0.0.1:6379');
        clients.push(client);
        return createRedisKeyStore({ client, prefix });
      };
    },
  },
];

describe.each(backends)('KeyStore conformance: $name', ({ enabled, shared }) => {
  it.runIf(enabled)('compare-and-set writes only on the expected version', async () => {
    const store = (await shared())();
    expect(await store.load()).toBeUndefined();
    expect(await store.compareAndSet(0, { version: 1, keys: [] })).toBe(true);
    expect(await store.compareAndSet(0, { version: 1, keys: [] })).toBe(false);
    expect(await store.compareAndSet(1, { version: 2, keys: [] })).toBe(true);
    expect((await store.load())?.version).toBe(2);
    expect(await store.version?.()).toBe(2);
    await store.close?.();
  });

  it.runIf(enabled)('two instances share one ring and see a rotation within seconds', async () => {
    const make = await shared();
    const opts = { algorithm: 'ES256' as const, encryptionKey, refreshInterval: 200 };
    const a = await createKeyRing({ ...opts, store: make() });
    const b = await createKeyRing({ ...opts, store: make() });
    try {
      expect(b.keys().map((k) => k.kid)).toEqual(a.keys().map((k) => k.kid));
      const tokenA = await a.sign({ from: 'a' });
      expect((await b.verify(tokenA)).payload.from).toBe('a');

      const t0 = Date.now();
      const next = await a.rotate();
      await expect
        .poll(() => b.keys().find((k) => k.status === 'active')?.kid, {
          timeout: 3000,
          interval: 20,
        })
        .toBe(next.kid);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(decodeHeader(await b.sign({})).kid).toBe(next.kid);
      expect((await b.verify(tokenA)).payload.from).toBe('a');

      // A key staged on one instance is in every instance's JWKS before it signs anywhere.
      const staged = await a.stage();
      await expect
        .poll(() => b.jwks().keys.map((k) => k.kid), { timeout: 3000, interval: 20 })
        .toContain(staged.kid);
      expect(decodeHeader(await b.sign({})).kid).toBe(next.kid);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it.runIf(enabled)(
    'a token signed by a key another instance just made verifies at once',
    async () => {
      const make = await shared();
      const opts = { algorithm: 'HS256' as const, encryptionKey, refreshInterval: 0 };
      const a = await createKeyRing({ ...opts, store: make() });
      const bStore = make();
      const b = await createKeyRing({ ...opts, store: { ...bStore, subscribe: undefined } });
      try {
        await a.rotate();
        const token = await a.sign({});
        expect((await b.verify(token)).key.kid).toBe(decodeHeader(token).kid);
      } finally {
        await a.close();
        await b.close();
      }
    },
  );

  it.runIf(enabled)('concurrent rotate() never leaves two signing keys or loses one', async () => {
    const make = await shared();
    const opts = { algorithm: 'EdDSA' as const, encryptionKey, refreshInterval: 0 };
    const rings: KeyRing[] = [];
    for (let i = 0; i < 3; i++) rings.push(await createKeyRing({ ...opts, store: make() }));
    const first = rings[0]!.keys()[0]!.kid;
    const results = await Promise.all(rings.flatMap((r) => [r.rotate(), r.rotate()]));
    const check = await createKeyRing({ ...opts, store: make() });
    const keys = check.keys();
    expect(keys.filter((k) => k.status === 'active')).toHaveLength(1);
    const kids = new Set(keys.map((k) => k.kid));
    expect(kids.has(first)).toBe(true);
    // Every key any rotate() returned as active is still in the ring.
    for (const r of results) expect(kids.has(r.kid)).toBe(true);
    expect(keys).toHaveLength(7);
    for (const r of [...rings, check]) await r.close();
  });

  it.runIf(enabled)(
    'keeps private keys encrypted at rest and refuses a wrong encryption key',
    async () => {
      const make = await shared();
      const store = make();
      const ring = await createKeyRing({
        algorithm: 'HS256',
        encryptionKey,
        store,
        refreshInterval: 0,
      });
      const state = JSON.stringify(await store.load());
      expect(state).toMatch(/"material":"v1\./);
      expect(state).not.toMatch(/"k":/);
      expect(state).not.toMatch(/"d":/);
      await expect(
        createKeyRing({ encryptionKey: Buffer.alloc(32, 1), store: make(), refreshInterval: 0 }),
      ).rejects.toMatchObject({ code: 'ERR_KEYRING_ENCRYPTION' });
      await ring.close();
    },
  );
});

describe.runIf(redisUp)('Redis store pub/sub', () => {
  it('another instance sees a rotation through pub/sub alone (polling off) in well under a second', async () => {
    const prefix = uniquePrefix('pubsub');
    prefixes.push(prefix);
    const make = () => {
      const client = new Redis('redis://127.0.0.1:6379');
      clients.push(client);
      return createRedisKeyStore({ client, prefix });
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
  it('a ring with a store needs an encryption key', async () => {
    const before = process.env.KEYRING_ENCRYPTION_KEY;
    delete process.env.KEYRING_ENCRYPTION_KEY;
    try {
      await expect(createKeyRing({ store: createMemoryKeyStore() })).rejects.toThrow(
        /KEYRING_ENCRYPTION_KEY/,
      );
      process.env.KEYRING_ENCRYPTION_KEY = encryptionKey;
      const ring = await createKeyRing({ algorithm: 'HS256', store: createMemoryKeyStore() });
      expect(ring.keys()).toHaveLength(1);
      process.env.KEYRING_ENCRYPTION_KEY = 'too-short';
      await expect(createKeyRing({ store: createMemoryKeyStore() })).rejects.toThrow(/32 bytes/);
    } finally {
      if (before === undefined) delete process.env.KEYRING_ENCRYPTION_KEY;
      else process.env.KEYRING_ENCRYPTION_KEY = before;
    }
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
      code: 'ERR_KEYRING_ENCRYPTION',
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
    const store = createFileKeyStore({ path, lockTimeout: 100 });
    await expect(
      store.compareAndSet(version, { version: version + 1, keys: [] }),
    ).rejects.toMatchObject({
      code: 'ERR_KEYRING_STORE',
    });
    await ring.close();
  });
});
