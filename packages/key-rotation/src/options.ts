import type { Clock, Duration } from '@org/core';
import type { Algorithm } from './algorithms.js';
import type { KeyStore } from './key-store.js';
import type { SeedKey } from './seed.js';

/** AES-256-GCM key(s) for private keys at rest: 32 bytes, or 64 hex / base64 characters each. */
export type EncryptionKey = string | Uint8Array | readonly (string | Uint8Array)[];

/**
 * Options of {@link createKeyRing}. Every duration is a core `Duration`: milliseconds as a
 * number, or a string with its unit (`'15m'`, `'7d'`).
 */
export interface KeyRingOptions {
  /**
   * Algorithm of new keys. Keys already in a store keep their own, pinned, algorithm.
   * @default 'RS256'
   */
  algorithm?: Algorithm | undefined;
  /**
   * How long a replaced key keeps verifying after `rotate()`. `sign()` refuses tokens that would
   * outlive it; 0 means a rotation ends every token.
   * @default '7d'
   */
  gracePeriod?: Duration | undefined;
  /** `iss` written by `sign()` and required by `verify()`. @default undefined (not checked) */
  issuer?: string | undefined;
  /** `aud` written by `sign()` and required by `verify()`. @default undefined (not checked) */
  audience?: string | string[] | undefined;
  /**
   * Where the ring lives, shared by every instance (`createFileKeyStore`, `createRedisKeyStore`).
   * The ring never closes it: it is yours.
   * @default an in-memory store private to this ring
   */
  store?: KeyStore | undefined;
  /** The time source; inject one in tests. @default systemClock (`Date.now()`) */
  clock?: Clock | undefined;
  /**
   * Tokens longer than this many characters are refused before any parsing.
   * @default 8192
   */
  maxTokenBytes?: number | undefined;
  /**
   * Most verify-only keys (previous signing keys still in their grace period) the ring keeps.
   * A rotation past it retires the oldest at once, and its tokens stop verifying: a burst of
   * rotations cannot grow the ring (and the JWKS) without bound. Raise it if you rotate more
   * than this many times within one `gracePeriod`.
   * @default 10
   */
  maxVerifyOnlyKeys?: number | undefined;
  /** An existing key to start the ring with: `fromSecret(…)` or `fromPrivateKey(…)`. @default a fresh key */
  seed?: SeedKey | undefined;
  /**
   * AES-256-GCM key(s) for private keys at rest in the store: 32 bytes, or 64 hex / base64
   * characters. With a list, the first encrypts and all decrypt. Required with a `store`;
   * `createKeyRingFromEnv` reads it from `KEYRING_ENCRYPTION_KEY`.
   * @default none (a ring without a store seals with an ephemeral key)
   */
  encryptionKey?: EncryptionKey | undefined;
  /**
   * Time between checks of the store's version (besides the store's own change notifications).
   * 0 turns polling off.
   * @default '5s'
   */
  refreshInterval?: Duration | undefined;
  /** Clock skew allowed on `exp`, `nbf` and `iat`: 0 or at least `'1s'`. @default 0 */
  clockTolerance?: Duration | undefined;
  /**
   * How long each key store call may take before it rejects with core's `TimeoutError`
   * (`ERR_TIMEOUT`).
   * @default '5s'
   */
  storeTimeout?: Duration | undefined;
  /** Abandons creating the ring (loading or initialising the store). @default none */
  signal?: AbortSignal | undefined;
  /**
   * Token lifetime when `sign()` is given no `expiresIn`: at least `'1s'`. `sign()` refuses a
   * lifetime longer than `gracePeriod` (such tokens would die early after a rotation).
   * @default '15m' (or a shorter non-zero gracePeriod)
   */
  expiresIn?: Duration | undefined;
  /** RSA modulus size in bits for new RS256 keys. @default 2048 */
  modulusLength?: number | undefined;
}

/** Options of `sign()`. */
export interface SignOptions {
  /** Lifetime, at least `'1s'`: `'15m'`, `'12h'`, or milliseconds. @default the ring's `expiresIn` ('15m') */
  expiresIn?: Duration | undefined;
  /** `sub` claim. @default none */
  subject?: string | undefined;
  /** `aud` claim. @default the ring's `audience` */
  audience?: string | string[] | undefined;
  /** `iss` claim. @default the ring's `issuer` */
  issuer?: string | undefined;
  /** `nbf` as a time after now: 0 or at least `'1s'`. @default none */
  notBefore?: Duration | undefined;
  /** `jti` claim. @default none */
  jwtId?: string | undefined;
}

/** Options of `verify()`. */
export interface VerifyOptions {
  /** Accepted `aud` value(s). @default the ring's `audience` (none: not checked) */
  audience?: string | readonly string[] | undefined;
  /** Accepted `iss` value(s). @default the ring's `issuer` (none: not checked) */
  issuer?: string | readonly string[] | undefined;
  /** Required `sub`. @default not checked */
  subject?: string | undefined;
  /** Refuse tokens whose `iat` is older: `'1h'`, at least `'1s'`. @default not checked */
  maxTokenAge?: Duration | undefined;
  /** Clock skew allowed: 0 or at least `'1s'`. @default the ring's `clockTolerance` (0) */
  clockTolerance?: Duration | undefined;
  /** Refuse tokens without `exp`. @default true */
  requireExp?: boolean | undefined;
  /**
   * Required `typ` header (e.g. `'at+jwt'`), so that one kind of token cannot pass for another
   * (RFC 8725 §3.11). `sign()` writes `typ: 'JWT'`. @default not checked
   */
  typ?: string | undefined;
  /**
   * Abandons the wait of a ring's `verify()` for a re-read of a shared store (done for a `kid`
   * it does not know, at most once a second): the call rejects with core's `AbortedError`.
   * @default none (the re-read is still bounded by the ring's `storeTimeout`)
   */
  signal?: AbortSignal | undefined;
}
