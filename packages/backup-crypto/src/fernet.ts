import { createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock, Duration } from '@org/core';
import { check, invalidArgument, invalidOption, invalidToken } from './errors.js';
import { type FernetKey, type KeyParts, parseKey } from './key.js';
import { recordRefused } from './telemetry.js';
import {
  checkTime,
  checkTtl,
  type TimePolicy,
  type TimeSettings,
  timePolicy,
  timeSettings,
} from './time-check.js';
import {
  BLOCK_BYTES,
  HEADER_BYTES,
  MAC_BYTES,
  readTimestamp,
  tokenHeader,
} from './token-format.js';
import { openToken } from './token-open.js';
import { SLICE_BYTES, sealToken } from './token-seal.js';

/** Options of {@link Fernet} and {@link MultiFernet}. */
export interface FernetOptions {
  /**
   * The clock (core's `Clock`, milliseconds since the epoch) for new tokens' timestamps and for
   * judging `ttl`. Inject one in tests instead of patching `Date`.
   * @default systemClock
   */
  clock?: Clock | undefined;
  /**
   * How far in the future a token's timestamp may lie when `decrypt` is given a `ttl` (Python's
   * `_MAX_CLOCK_SKEW`): milliseconds as a number, or a string such as `'60s'`. Judged in whole
   * seconds, as the token's timestamp is. Without `ttl` any timestamp is accepted, as in Python.
   * @default '60s'
   */
  maxClockSkew?: Duration | undefined;
}

/** Options of {@link Fernet.encrypt}. */
export interface EncryptOptions {
  /**
   * The token's timestamp as written on the wire: whole **unix seconds**, not a duration. It
   * overrides the clock; only for reproducing test vectors and for keeping a token's time when
   * re-encrypting it.
   * @default the clock's current second
   */
  timestamp?: number | undefined;
  /**
   * The 16-byte AES-CBC IV. Only for reproducing test vectors: reusing an IV under one key
   * leaks plaintext equality.
   * @default 16 fresh random bytes
   */
  iv?: Uint8Array | undefined;
}

/** Options of {@link Fernet.decrypt}. */
export interface DecryptOptions {
  /**
   * Maximum token age: **milliseconds** as a number, or a string such as `'90s'`, `'7d'`. Older
   * tokens throw `ERR_FERNET_TOKEN_EXPIRED`. Judged against the clock in whole seconds, as
   * Python's `decrypt(token, ttl)`: a token is expired once now − timestamp > ttl.
   * @default undefined (no limit, as Python's `decrypt(token)`)
   */
  ttl?: Duration | undefined;
}

/** @internal The bytes of `data`, a string taken as UTF-8. */
export function dataBytes(data: string | Uint8Array): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return data;
  throw invalidArgument('encrypt takes a string (encrypted as UTF-8) or a Uint8Array');
}

/** @internal A fresh token header: the clock's second (or `timestamp`) and a random (or given) IV. */
export function freshHeader(clock: Clock, options?: EncryptOptions): Buffer {
  const timestamp =
    options?.timestamp === undefined
      ? Math.floor(clock.now() / 1000)
      : (check.integer(options.timestamp, 'timestamp', undefined, {
          min: 0,
          max: Number.MAX_SAFE_INTEGER,
        }) as number);
  const iv = options?.iv ?? randomBytes(BLOCK_BYTES);
  if (!(iv instanceof Uint8Array) || iv.byteLength !== BLOCK_BYTES) {
    throw invalidOption('`iv` must be exactly 16 bytes (a Uint8Array); omit it for a random IV');
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw invalidOption('the clock must give a time at or after the unix epoch');
  }
  return tokenHeader(timestamp, iv);
}

/**
 * @internal Decrypts token bytes whose MAC has been verified, in slices, returning the plaintext
 * as pieces of at most SLICE_BYTES (the padding is checked before anything is returned).
 */
export function openVerifiedParts(
  keys: KeyParts,
  data: Buffer,
  policy: TimePolicy | undefined,
): Buffer[] {
  checkTime(readTimestamp(data), policy);
  const decipher = createDecipheriv('aes-128-cbc', keys.encryptionKey, data.subarray(9, 25));
  const parts: Buffer[] = [];
  const end = data.length - MAC_BYTES;
  try {
    for (let at = HEADER_BYTES; at < end; at += SLICE_BYTES) {
      const plain = decipher.update(data.subarray(at, Math.min(end, at + SLICE_BYTES)));
      if (plain.length > 0) parts.push(plain);
    }
    const last = decipher.final();
    if (last.length > 0) parts.push(last);
  } catch {
    throw invalidToken();
  }
  return parts;
}

/** @internal Whether the token bytes carry a valid MAC under `keys` (constant-time compare). */
export function macMatches(keys: KeyParts, data: Buffer): boolean {
  const macAt = data.length - MAC_BYTES;
  const expected = createHmac('sha256', keys.signingKey).update(data.subarray(0, macAt)).digest();
  return timingSafeEqual(expected, data.subarray(macAt));
}

/**
 * Fernet symmetric encryption (AES-128-CBC, HMAC-SHA256), byte-compatible with Python's
 * `cryptography.fernet.Fernet`: each side reads the other's tokens.
 *
 * ```ts
 * const f = new Fernet(process.env.BACKUP_ENCRYPTION_KEY!);
 * const token = f.encrypt('hello');
 * f.decrypt(token, { ttl: '7d' }).toString(); // 'hello'
 * ```
 */
export class Fernet {
  readonly #keys: KeyParts;
  readonly #time: TimeSettings;

  /**
   * @throws FernetError `ERR_FERNET_INVALID_KEY` when `key` is not a Fernet key,
   *   `ERR_FERNET_INVALID_OPTION` for a bad `clock` or `maxClockSkew`.
   */
  constructor(key: FernetKey, options: FernetOptions = {}) {
    this.#keys = parseKey(key);
    this.#time = timeSettings(check.object(options, 'options'));
  }

  /** Encrypts `data` (a string is taken as UTF-8) into a url-safe base64 token. */
  encrypt(data: string | Uint8Array, options?: EncryptOptions): string {
    return sealToken(this.#keys, freshHeader(this.#time.clock, options), dataBytes(data));
  }

  /**
   * Verifies the token's MAC in constant time, then its age, then decrypts it.
   * @throws FernetError `ERR_FERNET_INVALID_TOKEN` (one generic message for every defect),
   *   `ERR_FERNET_TOKEN_EXPIRED`, or `ERR_FERNET_INVALID_OPTION` for a bad `ttl`.
   */
  decrypt(token: string | Uint8Array, options?: DecryptOptions): Buffer {
    const policy = timePolicy(this.#time, checkTtl(options?.ttl));
    try {
      return openToken([this.#keys], token, policy).plaintext;
    } catch (err) {
      recordRefused(err);
      throw err;
    }
  }

  /**
   * The timestamp (unix seconds, as on the wire) of an authentic token, as Python's
   * `extract_timestamp`.
   * @throws FernetError `ERR_FERNET_INVALID_TOKEN`
   */
  extractTimestamp(token: string | Uint8Array): number {
    return openToken([this.#keys], token, undefined).timestamp;
  }
}
