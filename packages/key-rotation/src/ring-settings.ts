import type { Clock } from '@org/core';
import { type Algorithm, isAlgorithm } from './algorithms.js';
import { ephemeralSealKeys, resolveSealKeys, type SealKeys } from './at-rest.js';
import { check, invalidOption } from './errors.js';
import { DEFAULT_MAX_TOKEN_BYTES } from './jws.js';
import { createMemoryKeyStore, type KeyStore } from './key-store.js';
import type { KeyRingOptions } from './options.js';
import { clockOption, wireSeconds } from './time-options.js';

/** The options of a ring, checked and parsed once at construction. */
export interface RingSettings {
  readonly algorithm: Algorithm;
  readonly graceMs: number;
  readonly clock: Clock;
  readonly maxTokenBytes: number;
  readonly maxVerifyOnlyKeys: number;
  /** Clock tolerance in seconds. */
  readonly tolerance: number;
  /** Default token lifetime in seconds. */
  readonly expiresIn: number;
  /** Whether the store is the caller's (shared with other instances). */
  readonly shared: boolean;
  readonly store: KeyStore;
  readonly sealKeys: SealKeys;
  readonly storeTimeoutMs: number;
  readonly refreshIntervalMs: number;
  readonly modulusLength: number;
}

const DEFAULT_EXPIRES_IN_MS = 15 * 60_000;

/** Default `maxVerifyOnlyKeys`. */
export const DEFAULT_MAX_VERIFY_ONLY_KEYS = 10;

/** Checks `options` and applies the defaults; throws `ERR_KEY_ROTATION_INVALID_OPTION`. */
export function ringSettings(input: KeyRingOptions | undefined): RingSettings {
  const options = check.object(input, 'options');
  const algorithm = options.seed?.alg ?? options.algorithm ?? 'RS256';
  if (!isAlgorithm(algorithm)) {
    throw invalidOption('`algorithm` must be one of RS256, ES256, EdDSA, HS256');
  }
  if (options.seed && options.algorithm && options.seed.alg !== options.algorithm) {
    throw invalidOption(`the seed key is ${options.seed.alg}, not ${options.algorithm}`);
  }
  const graceMs = check.duration(options.gracePeriod, 'gracePeriod', '7d');
  const shared = options.store !== undefined;
  const sealKeys =
    resolveSealKeys(options.encryptionKey) ?? (shared ? undefined : ephemeralSealKeys());
  if (sealKeys === undefined) {
    throw invalidOption(
      'a ring with a store needs an encryption key for its private keys: pass `encryptionKey` (32 random bytes, e.g. `openssl rand -base64 32`), or use createKeyRingFromEnv() with KEYRING_ENCRYPTION_KEY set',
    );
  }
  return {
    algorithm,
    graceMs,
    clock: clockOption(options.clock),
    maxTokenBytes: check.integer(options.maxTokenBytes, 'maxTokenBytes', DEFAULT_MAX_TOKEN_BYTES, {
      min: 1,
    }),
    maxVerifyOnlyKeys: check.integer(
      options.maxVerifyOnlyKeys,
      'maxVerifyOnlyKeys',
      DEFAULT_MAX_VERIFY_ONLY_KEYS,
      { min: 0 },
    ),
    tolerance: wireSeconds(options.clockTolerance, 'clockTolerance', 0),
    expiresIn: wireSeconds(
      options.expiresIn,
      'expiresIn',
      graceMs === 0 ? DEFAULT_EXPIRES_IN_MS : Math.min(DEFAULT_EXPIRES_IN_MS, graceMs),
      'positive',
    ),
    shared,
    store: options.store ?? createMemoryKeyStore(),
    sealKeys,
    storeTimeoutMs: check.duration(options.storeTimeout, 'storeTimeout', '5s', { min: 1 }),
    refreshIntervalMs: check.duration(options.refreshInterval, 'refreshInterval', '5s'),
    modulusLength: check.integer(options.modulusLength, 'modulusLength', 2048, { min: 2048 }),
  };
}
