import { randomBytes } from 'node:crypto';
import { invalidArgument, invalidToken } from './errors.js';
import {
  type DecryptOptions,
  type EncryptOptions,
  type FernetOptions,
  freshHeader,
  macMatches,
  openVerified,
  sealToken,
  timePolicy,
} from './fernet.js';
import { type FernetKey, type KeyParts, parseKey } from './key.js';
import { checkSeconds } from './time-check.js';
import {
  DEFAULT_MAX_CLOCK_SKEW_SECONDS,
  decodeToken,
  readTimestamp,
  tokenHeader,
} from './token-format.js';

/**
 * Several keys at once, for key rotation, as Python's `MultiFernet`: encrypts with the first key,
 * decrypts tokens made with any of them, and `rotate` re-encrypts a token under the first key.
 *
 * ```ts
 * const keys = new MultiFernet([newKey, oldKey]);
 * const fresh = keys.rotate(oldToken); // now readable with newKey alone
 * ```
 */
export class MultiFernet {
  readonly #keys: readonly KeyParts[];
  readonly #clock: () => number;
  readonly #maxClockSkew: number;

  /**
   * @param keys the current key first, then older keys still accepted for decryption.
   * @throws FernetError `ERR_FERNET_INVALID_KEY` for any bad key, `ERR_FERNET_INVALID_ARGUMENT`
   *   for an empty list.
   */
  constructor(keys: readonly FernetKey[], options: FernetOptions = {}) {
    if (keys.length === 0) throw invalidArgument('MultiFernet needs at least one key');
    this.#keys = keys.map(parseKey);
    this.#clock = options.clock ?? Date.now;
    checkSeconds('maxClockSkewSeconds', options.maxClockSkewSeconds);
    this.#maxClockSkew = options.maxClockSkewSeconds ?? DEFAULT_MAX_CLOCK_SKEW_SECONDS;
  }

  /** Encrypts with the first key; see {@link Fernet.encrypt}. */
  encrypt(data: string | Uint8Array, options?: EncryptOptions): string {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return sealToken(this.#keys[0]!, freshHeader(this.#clock, options), bytes);
  }

  /**
   * Decrypts a token made with any of the keys; see {@link Fernet.decrypt}.
   * @throws FernetError `ERR_FERNET_INVALID_TOKEN` or `ERR_FERNET_TOKEN_EXPIRED`
   */
  decrypt(token: string | Uint8Array, options?: DecryptOptions): Buffer {
    const policy = timePolicy(this.#clock, this.#maxClockSkew, options);
    const data = decodeToken(token);
    return openVerified(this.#match(data), data, policy);
  }

  /**
   * Re-encrypts a token made with any of the keys under the first key, keeping its original
   * timestamp (as Python's `MultiFernet.rotate`), so a ttl keeps counting from the first backup.
   * @throws FernetError `ERR_FERNET_INVALID_TOKEN`
   */
  rotate(token: string | Uint8Array): string {
    const data = decodeToken(token);
    const timestamp = readTimestamp(data);
    const plain = openVerified(this.#match(data), data, {
      ttl: undefined,
      now: 0,
      maxClockSkew: 0,
    });
    const header = tokenHeader(timestamp, randomBytes(16));
    return sealToken(this.#keys[0]!, header, plain);
  }

  #match(data: Buffer): KeyParts {
    // Every key is tried, so the time taken does not tell which key (if any) matched.
    let found: KeyParts | undefined;
    for (const keys of this.#keys) if (macMatches(keys, data) && found === undefined) found = keys;
    if (found === undefined) throw invalidToken();
    return found;
  }
}
