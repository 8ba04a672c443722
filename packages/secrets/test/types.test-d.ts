import type { Duration } from '@org/core';
import { createSecrets, envProvider, type SecretsOptions, type SecretValue } from '@org/secrets';
import { describe, expectTypeOf, it } from 'vitest';

describe('public types', () => {
  const secrets = createSecrets({ provider: envProvider({ env: {} }) });

  it('get resolves a SecretValue, or undefined only with optional: true', () => {
    expectTypeOf(secrets.get('a')).resolves.toEqualTypeOf<SecretValue>();
    expectTypeOf(secrets.get('a', { field: 'password' })).resolves.toEqualTypeOf<SecretValue>();
    expectTypeOf(secrets.get('a', { optional: true })).resolves.toEqualTypeOf<
      SecretValue | undefined
    >();
  });

  it('withSecret returns what its callback returns', () => {
    expectTypeOf(secrets.withSecret('a', (v) => v.reveal().length)).resolves.toBeNumber();
  });

  it('durations are core Durations', () => {
    expectTypeOf<NonNullable<SecretsOptions['ttl']>>().toEqualTypeOf<Duration>();
    expectTypeOf<NonNullable<SecretsOptions['maxStale']>>().toEqualTypeOf<Duration>();
    // @ts-expect-error a value is no string
    const s: string = {} as SecretValue;
    void s;
  });
});
