import { randomBytes } from 'node:crypto';
import { invalidArgument } from './errors.js';
import {
  type DecryptOptions,
  type EncryptOptions,
  type FernetOptions,
  freshHeader,
  timePolicy,
} from './fernet.js';
import { type FernetKey, type KeyParts, parseKey } from './key.js';
import { checkSeconds } from './time-check.js';
import { DEFAULT_MAX_CLOCK_SKEW_SECONDS, tokenHeader } from './token-format.js';
import { openToken } from './token-open.js';
import { sealToken } from './token-seal.js';

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
    return openToken(this.#keys, token, policy).plaintext;
  }

  /**
   * Re-encrypts a token made with any of the keys under the first key, keeping its original
   * timestamp (as Python's `MultiFernet.rotate`), so a ttl keeps counting from the first backup.
   * @throws FernetError `ERR_FERNET_INVALID_TOKEN`
   */
  rotate(token: string | Uint8Array): string {
    const { plaintext, timestamp } = openToken(this.#keys, token, undefined);
    return sealToken(this.#keys[0]!, tokenHeader(timestamp, randomBytes(16)), plaintext);
  }
}
