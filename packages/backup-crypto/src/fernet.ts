import { createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { invalidArgument, invalidToken } from './errors.js';
import { type FernetKey, type KeyParts, parseKey } from './key.js';
import { checkSeconds, checkTime, type TimePolicy } from './time-check.js';
import {
  BLOCK_BYTES,
  DEFAULT_MAX_CLOCK_SKEW_SECONDS,
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
   * The clock, in milliseconds since the epoch, used for new tokens' timestamps and for `ttl`.
   * @default Date.now
   */
  clock?: () => number;
  /**
   * How far in the future, in seconds, a token's timestamp may lie when `decrypt` is given a `ttl`
   * (Python's `_MAX_CLOCK_SKEW`). Without `ttl` any timestamp is accepted, as in Python.
   * @default 60
   */
  maxClockSkewSeconds?: number;
}

/** Options of {@link Fernet.encrypt}. */
export interface EncryptOptions {
  /**
   * The token's timestamp in unix seconds (an integer). Only for reproducing test vectors.
   * @default the clock's current second
   */
  timestamp?: number;
  /**
   * The 16-byte AES-CBC IV. Only for reproducing test vectors: reusing an IV under one key
   * leaks plaintext equality.
   * @default 16 fresh random bytes
   */
  iv?: Uint8Array;
}

/** Options of {@link Fernet.decrypt}. */
export interface DecryptOptions {
  /**
   * Maximum token age in seconds. Older tokens throw `ERR_FERNET_TOKEN_EXPIRED`.
   * @default undefined (no limit, as Python's `decrypt(token)`)
   */
  ttl?: number;
  /**
   * The current time in unix seconds, to judge `ttl` against.
   * @default the clock's current second
   */
  now?: number;
}

/** @internal */
export function freshHeader(clock: () => number, options: EncryptOptions = {}): Buffer {
  const timestamp = options.timestamp ?? Math.floor(clock() / 1000);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw invalidArgument(`timestamp must be an integer number of unix seconds >= 0`);
  }
  const iv = options.iv ?? randomBytes(BLOCK_BYTES);
  if (iv.byteLength !== BLOCK_BYTES) throw invalidArgument('iv must be exactly 16 bytes');
  return tokenHeader(timestamp, iv);
}

/**
 * @internal Decrypts token bytes whose MAC has been verified, in slices, returning the plaintext
 * as pieces of at most SLICE_BYTES (the padding is checked before anything is returned).
 */
export function openVerifiedParts(keys: KeyParts, data: Buffer, policy: TimePolicy): Buffer[] {
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

/** @internal */
export function timePolicy(
  clock: () => number,
  maxClockSkew: number,
  options: DecryptOptions = {},
): TimePolicy {
  checkSeconds('ttl', options.ttl);
  return { ttl: options.ttl, now: options.now ?? Math.floor(clock() / 1000), maxClockSkew };
}

/**
 * Fernet symmetric encryption (AES-128-CBC, HMAC-SHA256), byte-compatible with Python's
 * `cryptography.fernet.Fernet`: each side reads the other's tokens.
 *
 * ```ts
 * const f = new Fernet(process.env.BACKUP_ENCRYPTION_KEY!);
 * const token = f.encrypt('hello');
 * f.decrypt(token).toString(); // 'hello'
 * ```
 */
export class Fernet {
  readonly #keys: KeyParts;
  readonly #clock: () => number;
  readonly #maxClockSkew: number;

  /** @throws FernetError `ERR_FERNET_INVALID_KEY` when `key` is not a Fernet key. */
  constructor(key: FernetKey, options: FernetOptions = {}) {
    this.#keys = parseKey(key);
    this.#clock = options.clock ?? Date.now;
    checkSeconds('maxClockSkewSeconds', options.maxClockSkewSeconds);
    this.#maxClockSkew = options.maxClockSkewSeconds ?? DEFAULT_MAX_CLOCK_SKEW_SECONDS;
  }

  /** Encrypts `data` (a string is taken as UTF-8) into a url-safe base64 token. */
  encrypt(data: string | Uint8Array, options?: EncryptOptions): string {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return sealToken(this.#keys, freshHeader(this.#clock, options), bytes);
  }

  /**
   * Verifies the token's MAC in constant time, then its age, then decrypts it.
   * @throws FernetError `ERR_FERNET_INVALID_TOKEN` (one generic message for every defect) or
   *   `ERR_FERNET_TOKEN_EXPIRED`.
   */
  decrypt(token: string | Uint8Array, options?: DecryptOptions): Buffer {
    const policy = timePolicy(this.#clock, this.#maxClockSkew, options);
    return openToken([this.#keys], token, policy).plaintext;
  }

  /**
   * The timestamp (unix seconds) of an authentic token, as Python's `extract_timestamp`.
   * @throws FernetError `ERR_FERNET_INVALID_TOKEN`
   */
  extractTimestamp(token: string | Uint8Array): number {
    return openToken([this.#keys], token, undefined).timestamp;
  }
}
