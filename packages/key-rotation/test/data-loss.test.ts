import { createKeyRing, type KeyStore, type RingState } from '@org/key-rotation';
import { describe, expect, it } from 'vitest';
import { encryptionKey } from './helpers.js';

/** A store in memory whose data can be lost, as a Redis without persistence loses it on restart. */
function losableStore(): KeyStore & {
  version(): Promise<number>;
  lose(): void;
  put(state: RingState): void;
} {
  let stored: RingState | undefined;
  return {
    async load() {
      return stored && structuredClone(stored);
    },
    async compareAndSet(expected, next) {
      if ((stored?.version ?? 0) !== expected) return false;
      stored = structuredClone(next);
      return true;
    },
    async version() {
      return stored?.version ?? 0;
    },
    lose() {
      stored = undefined;
    },
    put(state) {
      stored = structuredClone(state);
    },
  };
}

describe('a store that lost its data', () => {
  const opts = { algorithm: 'ES256' as const, encryptionKey, refreshInterval: 0 };

  it('a fresh ring written after the loss is merged, not taken for a newer state of ours', async () => {
    const store = losableStore();
    const a = await createKeyRing({ ...opts, store });
    const tokenA = await a.sign({});
    const heldVersion = await store.version();
    store.lose();
    // Another instance writes a fresh ring, which then moves past the version `a` holds.
    const c = await createKeyRing({ ...opts, store });
    const tokenC = await c.sign({});
    const fresh = (await store.load())!;
    expect(fresh.lineage).toBeDefined();
    store.put({ ...fresh, version: heldVersion + 5 });
    // Taking that ring as a newer version of its own, `a` would drop its key and its tokens.
    await a.refresh();
    await c.refresh();
    const active = c.keys().find((k) => k.status === 'active')!.kid;
    for (const r of [a, c]) {
      expect(
        r
          .keys()
          .filter((k) => k.status === 'active')
          .map((k) => k.kid),
      ).toEqual([active]);
      expect((await r.verify(tokenA)).key.alg).toBe('ES256');
      expect((await r.verify(tokenC)).key.alg).toBe('ES256');
    }
    expect((await store.load())!.lineage).toBe(fresh.lineage);
  });

  it('fresh rings start at random versions, so the cheap version poll sees a rewritten store', async () => {
    const versions = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const store = losableStore();
      await createKeyRing({ ...opts, store });
      versions.add(await store.version());
    }
    expect(versions.size).toBe(5);
  });
});
