import { randomBytes } from 'node:crypto';
import { check, invalidArgument } from './errors.js';
import {
  type DecryptOptions,
  dataBytes,
  type EncryptOptions,
  type FernetOptions,
  freshHeader,
} from './fernet.js';
import { type FernetKey, type KeyParts, parseKey } from './key.js';
import { recordRefused } from './telemetry.js';
import { checkTtl, type TimeSettings, timePolicy, timeSettings } from './time-check.js';
import { tokenHeader } from './token-format.js';
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
  readonly #time: TimeSettings;

  /**
   * @param keys the current key first, then older keys still accepted for decryption.
   * @throws FernetError `ERR_FERNET_INVALID_KEY` for any bad key, `ERR_FERNET_INVALID_ARGUMENT`
   *   for an empty list, `ERR_FERNET_INVALID_OPTION` for a bad `clock` or `maxClockSkew`.
   */
  constructor(keys: readonly FernetKey[], options: FernetOptions = {}) {
    if (!Array.isArray(keys) || keys.length === 0) {
      throw invalidArgument('MultiFernet needs a list of at least one key, the current key first');
    }
    this.#keys = keys.map(parseKey);
    this.#time = timeSettings(check.object(options, 'options'));
  }

  /** Encrypts with the first key; see {@link Fernet.encrypt}. */
  encrypt(data: string | Uint8Array, options?: EncryptOptions): string {
    return sealToken(this.#keys[0]!, freshHeader(this.#time.clock, options), dataBytes(data));
  }

  /**
   * Decrypts a token made with any of the keys; see {@link Fernet.decrypt}.
   * @throws FernetError `ERR_FERNET_INVALID_TOKEN` or `ERR_FERNET_TOKEN_EXPIRED`
   */
  decrypt(token: string | Uint8Array, options?: DecryptOptions): Buffer {
    const policy = timePolicy(this.#time, checkTtl(options?.ttl));
    try {
      return openToken(this.#keys, token, policy).plaintext;
    } catch (err) {
      recordRefused(err);
      throw err;
    }
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
