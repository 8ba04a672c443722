import {
  type Algorithm,
  createKeyRing,
  createRemoteVerifier,
  type JwtPayload,
  type KeyRotationError,
  type KeyRotationErrorCode,
  type KeyStore,
  type VerifyResult,
} from '@org/key-rotation';
import { createRedisKeyStore, createRedisRefreshTokenStore } from '@org/key-rotation/redis';
import { describe, expectTypeOf, it } from 'vitest';

describe('public types', () => {
  it('verify is generic over the payload', async () => {
    const ring = await createKeyRing();
    const result = await ring.verify<JwtPayload & { role: 'admin' | 'user' }>('t');
    expectTypeOf(result.payload.role).toEqualTypeOf<'admin' | 'user'>();
    expectTypeOf(result.payload.exp).toEqualTypeOf<number | undefined>();
    expectTypeOf(result.key.alg).toEqualTypeOf<Algorithm>();
    const remote = await createRemoteVerifier('https://x/jwks').verify('t');
    expectTypeOf(remote).toEqualTypeOf<VerifyResult<JwtPayload>>();
  });

  it('the Redis stores declare the close() that quits the client they made', () => {
    expectTypeOf(createRedisKeyStore)
      .returns.toHaveProperty('close')
      .toEqualTypeOf<() => Promise<void>>();
    expectTypeOf(createRedisRefreshTokenStore)
      .returns.toHaveProperty('close')
      .toEqualTypeOf<() => Promise<void>>();
  });

  it('options are checked', () => {
    // @ts-expect-error not an algorithm
    createKeyRing({ algorithm: 'HS512' });
    expectTypeOf<KeyRotationError['code']>().toEqualTypeOf<KeyRotationErrorCode>();
    expectTypeOf<KeyStore['compareAndSet']>().returns.toEqualTypeOf<Promise<boolean>>();
    // Durations are core Durations; with exactOptionalPropertyTypes, undefined may be passed.
    createKeyRing({ gracePeriod: '7d', refreshInterval: 5_000, storeTimeout: undefined });
    // @ts-expect-error not a duration
    createKeyRing({ gracePeriod: '7 fortnights' });
    expectTypeOf<KeyRotationErrorCode>().toEqualTypeOf<
      typeof import('@org/key-rotation').KeyRotationErrorCode[keyof typeof import('@org/key-rotation').KeyRotationErrorCode]
    >();
  });
});
