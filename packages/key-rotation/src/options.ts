import type { Algorithm } from './algorithms.js';
import type { KeyStore } from './key-store.js';
import type { SeedKey } from './seed.js';

/** Options of {@link createKeyRing}. */
export interface KeyRingOptions {
  /**
   * Algorithm of new keys. Keys already in a store keep their own, pinned, algorithm.
   * @default 'RS256'
   */
  algorithm?: Algorithm;
  /**
   * Seconds a replaced key keeps verifying after `rotate()` (or a string such as `'7d'`).
   * `sign()` refuses tokens that would outlive it; 0 means a rotation ends every token.
   * @default 604800 (7 days)
   */
  gracePeriod?: number | string;
  /** `iss` written by `sign()` and required by `verify()`. @default undefined (not checked) */
  issuer?: string;
  /** `aud` written by `sign()` and required by `verify()`. @default undefined (not checked) */
  audience?: string | string[];
  /**
   * Where the ring lives, shared by every instance (`createFileKeyStore`, `createRedisKeyStore`).
   * @default an in-memory store private to this ring
   */
  store?: KeyStore;
  /** Current time in ms since the epoch; inject one in tests. @default Date.now */
  clock?: () => number;
  /**
   * Tokens longer than this many characters are refused before any parsing.
   * @default 8192
   */
  maxTokenBytes?: number;
  /** An existing key to start the ring with: `fromSecret(…)` or `fromPrivateKey(…)`. @default a fresh key */
  seed?: SeedKey;
  /**
   * AES-256-GCM key(s) for private keys at rest in the store: 32 bytes, or 64 hex / base64
   * characters. With a list, the first encrypts and all decrypt. Required with a `store`.
   * @default process.env.KEYRING_ENCRYPTION_KEY (comma-separated list allowed)
   */
  encryptionKey?: string | Uint8Array | readonly (string | Uint8Array)[];
  /**
   * Ms between checks of the store's version (besides the store's own change notifications).
   * 0 turns polling off.
   * @default 5000
   */
  refreshInterval?: number;
  /** Seconds of clock skew allowed on `exp`, `nbf` and `iat`. @default 0 */
  clockTolerance?: number | string;
  /** Ms each key store call may take before it fails with `ERR_KEYRING_STORE`. @default 5000 */
  storeTimeout?: number;
  /** Abandons creating the ring (loading or initialising the store). @default none */
  signal?: AbortSignal;
  /**
   * Token lifetime when `sign()` is given no `expiresIn`: seconds, or `'15m'`. `sign()` refuses
   * a lifetime longer than `gracePeriod` (such tokens would die early after a rotation).
   * @default 900 (or a shorter non-zero gracePeriod)
   */
  expiresIn?: number | string;
  /** RSA modulus size in bits for new RS256 keys. @default 2048 */
  modulusLength?: number;
}

/** Options of `sign()`. */
export interface SignOptions {
  /** Lifetime: seconds, or a string such as `'15m'`, `'12h'`. @default the ring's `expiresIn` (900) */
  expiresIn?: number | string;
  /** `sub` claim. @default none */
  subject?: string;
  /** `aud` claim. @default the ring's `audience` */
  audience?: string | string[];
  /** `iss` claim. @default the ring's `issuer` */
  issuer?: string;
  /** `nbf` as seconds after now. @default none */
  notBefore?: number | string;
  /** `jti` claim. @default none */
  jwtId?: string;
}

/** Options of `verify()`. */
export interface VerifyOptions {
  /** Accepted `aud` value(s). @default the ring's `audience` (none: not checked) */
  audience?: string | readonly string[];
  /** Accepted `iss` value(s). @default the ring's `issuer` (none: not checked) */
  issuer?: string | readonly string[];
  /** Required `sub`. @default not checked */
  subject?: string;
  /** Refuse tokens whose `iat` is older: seconds, or `'1h'`. @default not checked */
  maxTokenAge?: number | string;
  /** Seconds of clock skew allowed. @default the ring's `clockTolerance` (0) */
  clockTolerance?: number | string;
  /** Refuse tokens without `exp`. @default true */
  requireExp?: boolean;
  /**
   * Required `typ` header (e.g. `'at+jwt'`), so that one kind of token cannot pass for another
   * (RFC 8725 §3.11). `sign()` writes `typ: 'JWT'`. @default not checked
   */
  typ?: string;
}
