import { randomBytes } from 'node:crypto';
import { type Duration, parseDuration } from '@org/core';
import { createKeyRing } from '../key-ring.js';
import type { KeyRing } from '../key-ring-types.js';
import type { KeyStore, RingState } from '../key-store.js';
import { settled, type TestApi, until } from './api.js';

/**
 * A backend under test: called once per test, it makes a fresh, empty place for one ring (a new
 * file, a new key prefix) and returns the function that opens a store on it. Each call of that
 * function is another instance's store on the same ring (another process, another connection).
 */
export type KeyStoreBackend = () => (() => KeyStore) | Promise<() => KeyStore>;

/** Options of {@link keyStoreConformance}. */
export interface KeyStoreConformanceOptions {
  /** Per-test timeout: a core `Duration`. @default '30s' */
  timeout?: Duration | undefined;
}

function state(version: number, note = 'x', lineage = 'lineage-1'): RingState {
  return {
    version,
    lineage,
    keys: [
      {
        kid: `kid-${note}`,
        alg: 'ES256',
        status: 'active',
        createdAt: 1_700_000_000_000,
        activatedAt: 1_700_000_000_001,
        material: `v1.id.iv.${note}`,
        publicJwk: {
          kty: 'EC',
          crv: 'P-256',
          x: 'x',
          y: 'y',
          kid: `kid-${note}`,
          alg: 'ES256',
          use: 'sig',
        },
      },
      {
        kid: 'kid-old',
        alg: 'ES256',
        status: 'verify-only',
        createdAt: 1_600_000_000_000,
        verifyUntil: 1_800_000_000_000,
      },
    ],
  };
}

/**
 * The tests every {@link KeyStore} passes: compare-and-set semantics, round trips, sharing between
 * instances, change notifications (when `subscribe` is there), `close()`, and rings of several
 * instances rotating over it. Run it from a test file:
 *
 * ```ts
 * import { keyStoreConformance } from '@org/key-rotation/testing';
 * import { describe, expect, it } from 'vitest';
 *
 * keyStoreConformance('my store', () => { const table = freshTable(); return () => myStore(table); }, { describe, it, expect });
 * ```
 */
export function keyStoreConformance(
  name: string,
  backend: KeyStoreBackend,
  t: TestApi,
  options: KeyStoreConformanceOptions = {},
): void {
  const { describe, expect } = t;
  const timeout = parseDuration(options.timeout ?? '30s', 'timeout');
  const encryptionKey = randomBytes(32);

  /** Runs `fn` with a store opener whose stores (and rings) are all closed afterwards. */
  function test(title: string, fn: (open: () => KeyStore, rings: KeyRing[]) => Promise<void>) {
    t.it(
      title,
      async () => {
        const make = await backend();
        const stores: KeyStore[] = [];
        const rings: KeyRing[] = [];
        const open = () => {
          const store = make();
          stores.push(store);
          return store;
        };
        try {
          await fn(open, rings);
        } finally {
          for (const ring of rings) await ring.close();
          for (const store of stores) await store.close?.();
        }
      },
      timeout,
    );
  }

  describe(`KeyStore conformance: ${name}`, () => {
    test('an empty store loads nothing, at version 0', async (open) => {
      const store = open();
      expect(await store.load()).toBeUndefined();
      if (store.version) expect(await store.version()).toBe(0);
    });

    test('compare-and-set writes only on the expected version', async (open) => {
      const store = open();
      expect(await store.compareAndSet(0, state(1))).toBe(true);
      expect(await store.compareAndSet(0, state(1, 'y'))).toBe(false);
      expect(await store.compareAndSet(5, state(6))).toBe(false);
      expect(await store.compareAndSet(1, state(2))).toBe(true);
      expect((await store.load())?.version).toBe(2);
      if (store.version) expect(await store.version()).toBe(2);
    });

    test('what is written loads back unchanged, in every instance', async (open) => {
      const a = open();
      const b = open();
      const written = state(987_654_321, 'round-trip');
      expect(await a.compareAndSet(0, written)).toBe(true);
      expect(await a.load()).toEqual(written);
      expect(await b.load()).toEqual(written);
      if (b.version) expect(await b.version()).toBe(987_654_321);
    });

    test('of concurrent writers on one version, exactly one wins', async (open) => {
      const stores = [open(), open(), open(), open()];
      expect(await stores[0]!.compareAndSet(0, state(10))).toBe(true);
      const results = await Promise.all(
        stores.map((s, i) => s.compareAndSet(10, state(11, `writer-${i}`))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await stores[1]!.load())?.keys[0]?.kid).toBe(`kid-writer-${winner}`);
    });

    test('subscribe() (when present) tells other instances of a write, until unsubscribed', async (open) => {
      const writer = open();
      const watcher = open();
      if (!watcher.subscribe) return;
      let calls = 0;
      const off = watcher.subscribe(() => {
        calls++;
      });
      // A subscription may take a moment to be in place: write until it hears one.
      let version = 0;
      const heard = await until(async () => {
        if (calls > 0) return true;
        expect(await writer.compareAndSet(version, state(version + 1))).toBe(true);
        version++;
        return false;
      }, 5000);
      expect(heard).toBe(true);
      off();
      await new Promise((r) => setTimeout(r, 100));
      const before = calls;
      expect(await writer.compareAndSet(version, state(version + 1))).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      expect(calls).toBe(before);
    });

    test('close() (when present) can be called twice', async (open) => {
      const store = open();
      await store.load();
      await store.close?.();
      await store.close?.();
    });

    test('two rings share one ring and see a rotation within seconds', async (open, rings) => {
      const opts = { algorithm: 'ES256' as const, encryptionKey, refreshInterval: 100 };
      const a = await createKeyRing({ ...opts, store: open() });
      rings.push(a);
      const b = await createKeyRing({ ...opts, store: open() });
      rings.push(b);
      expect(b.keys().map((k) => k.kid)).toEqual(a.keys().map((k) => k.kid));
      const token = await a.sign({ from: 'a' });
      expect((await b.verify(token)).payload.from).toBe('a');
      const next = await a.rotate();
      const active = () => b.keys().find((k) => k.status === 'active')?.kid;
      expect(await until(() => active() === next.kid)).toBe(true);
      expect((await b.verify(await b.sign({}))).key.kid).toBe(next.kid);
      expect((await b.verify(token)).payload.from).toBe('a');
      // A key staged on one instance is in every instance's JWKS before it signs anywhere.
      const staged = await a.stage();
      const published = () => b.jwks().keys.some((k) => k.kid === staged.kid);
      expect(await until(published)).toBe(true);
      expect((await b.verify(await b.sign({}))).key.kid).toBe(next.kid);
    });

    test('a token signed by a key another instance just made verifies at once', async (open, rings) => {
      const opts = { algorithm: 'HS256' as const, encryptionKey, refreshInterval: 0 };
      const a = await createKeyRing({ ...opts, store: open() });
      rings.push(a);
      // An instance that hears of no write: it has only verify()'s re-read of the store.
      const { subscribe: _deaf, ...quiet } = open();
      const b = await createKeyRing({ ...opts, store: quiet });
      rings.push(b);
      await a.rotate();
      const token = await a.sign({});
      const kid = a.keys().find((k) => k.status === 'active')?.kid;
      expect((await b.verify(token)).key.kid).toBe(kid);
    });

    test('concurrent rotate() never leaves two signing keys or loses one', async (open, rings) => {
      const opts = { algorithm: 'EdDSA' as const, encryptionKey, refreshInterval: 0 };
      for (let i = 0; i < 3; i++) rings.push(await createKeyRing({ ...opts, store: open() }));
      const first = rings[0]!.keys()[0]!.kid;
      const results = await Promise.all(rings.flatMap((r) => [r.rotate(), r.rotate()]));
      const check = await createKeyRing({ ...opts, store: open() });
      rings.push(check);
      const keys = check.keys();
      expect(keys.filter((k) => k.status === 'active')).toHaveLength(1);
      const kids = new Set(keys.map((k) => k.kid));
      expect(kids.has(first)).toBe(true);
      for (const r of results) expect(kids.has(r.kid)).toBe(true);
      expect(keys).toHaveLength(7);
    });

    test('private keys are sealed at rest; a wrong encryption key is refused', async (open, rings) => {
      const store = open();
      const opts = { algorithm: 'HS256' as const, refreshInterval: 0 };
      rings.push(await createKeyRing({ ...opts, encryptionKey, store }));
      const text = JSON.stringify(await store.load());
      expect(text).toMatch(/"material":"v1\./);
      expect(text).not.toMatch(/"k":/);
      expect(text).not.toMatch(/"d":/);
      const wrong = createKeyRing({ ...opts, encryptionKey: Buffer.alloc(32, 1), store: open() });
      expect(await settled(wrong)).toBe('ERR_KEY_ROTATION_ENCRYPTION');
    });
  });
}
