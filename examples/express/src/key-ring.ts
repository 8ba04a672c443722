import { createKeyRing, createKeyRingFromEnv, type KeyRing } from '@org/key-rotation';

/** Options of {@link createKeyRingFor}. */
export interface KeyRingSetup {
  /** Redis shared by every instance; used with `KEYRING_ENCRYPTION_KEY` in `env`. */
  redis?: string | undefined;
  env: Record<string, string | undefined>;
  /** `iss` of the tokens; `aud` is `example-api`. */
  issuer: string;
}

/**
 * The ring that signs this app's tokens. On the embedded default it lives in memory (RS256, a
 * key made at start-up: tokens do not survive a restart, and each instance has its own). With
 * `REDIS_URL` and `KEYRING_ENCRYPTION_KEY` set, every instance shares one ring in Redis,
 * encrypted at rest; `close()` then also closes the store (the ring never closes its store).
 */
export async function createKeyRingFor(
  setup: KeyRingSetup,
): Promise<{ ring: KeyRing; close(): Promise<void> }> {
  const base = { issuer: setup.issuer, audience: 'example-api' };
  if (!setup.redis || !setup.env.KEYRING_ENCRYPTION_KEY) {
    const ring = await createKeyRing(base);
    return { ring, close: () => ring.close() };
  }
  // Loaded only here, so the embedded default never loads ioredis.
  const { createRedisKeyStore } = await import('@org/key-rotation/redis');
  const store = createRedisKeyStore({ redis: setup.redis, prefix: `${setup.issuer}:keyring:` });
  const ring = await createKeyRingFromEnv({ ...base, env: setup.env, store });
  return {
    ring,
    async close() {
      await ring.close();
      await store.close?.();
    },
  };
}
