import {
  createDecipheriv,
  createHmac,
  type Decipher,
  type Hmac,
  timingSafeEqual,
} from 'node:crypto';
import { Base64UrlDecoder } from './base64-stream.js';
import { invalidToken } from './errors.js';
import type { KeyParts } from './key.js';
import { checkTime, type TimePolicy } from './time-check.js';
import { BLOCK_BYTES, HEADER_BYTES, MAC_BYTES, readTimestamp, VERSION } from './token-format.js';

/** Input text per decoding step: decodes to 48 KiB. */
const SLICE_TEXT = 64 * 1024;

/**
 * @internal Decrypts one token incrementally (its base64 text in pieces of any size), handing out
 * plaintext as it goes: **unauthenticated** until `end` has returned. Decoded bytes land in one
 * reused buffer whose first bytes hold back the last 32 seen (the MAC candidate), so the only
 * allocations per step are the text's string and the decipher's output.
 */
export class TokenStreamOpener {
  readonly #keys: KeyParts;
  readonly #policy: () => TimePolicy | undefined;
  readonly #emit: (plain: Buffer) => void;
  readonly #hmac: Hmac;
  readonly #decoder = new Base64UrlDecoder();
  readonly #bytes = Buffer.allocUnsafe(MAC_BYTES + Base64UrlDecoder.maxBytes(SLICE_TEXT));
  #held = 0;
  #header: Buffer | undefined;
  #decipher: Decipher | undefined;
  #bodyBytes = 0;

  /** `policy` is called once, at the end, after the MAC has verified. */
  constructor(keys: KeyParts, policy: () => TimePolicy | undefined, emit: (plain: Buffer) => void) {
    this.#keys = keys;
    this.#policy = policy;
    this.#emit = emit;
    this.#hmac = createHmac('sha256', keys.signingKey);
  }

  /** Decodes and decrypts a piece of the token's text. @throws FernetError on bad text. */
  update(text: Uint8Array): void {
    for (let at = 0; at < text.length; at += SLICE_TEXT) {
      const n = this.#decoder.decodeInto(
        text.subarray(at, at + SLICE_TEXT),
        this.#bytes,
        this.#held,
      );
      this.#absorb(this.#held + n);
    }
  }

  /**
   * Checks the MAC (constant time), the token's time and the padding, and emits the last
   * plaintext. @throws FernetError `ERR_FERNET_INVALID_TOKEN` or `ERR_FERNET_TOKEN_EXPIRED`.
   */
  end(): void {
    this.#decoder.end();
    const decipher = this.#decipher;
    if (decipher === undefined || this.#header === undefined || this.#held !== MAC_BYTES) {
      throw invalidToken();
    }
    if (this.#bodyBytes === 0 || this.#bodyBytes % BLOCK_BYTES !== 0) throw invalidToken();
    if (!timingSafeEqual(this.#hmac.digest(), this.#bytes.subarray(0, MAC_BYTES))) {
      throw invalidToken();
    }
    checkTime(readTimestamp(this.#header), this.#policy());
    let last: Buffer;
    try {
      last = decipher.final();
    } catch {
      throw invalidToken();
    }
    if (last.length > 0) this.#emit(last);
  }

  /** Takes `total` decoded bytes at the start of the buffer, keeping the last 32 back. */
  #absorb(total: number): void {
    const bytes = this.#bytes;
    let start = 0;
    if (this.#decipher === undefined) {
      if (total < HEADER_BYTES) {
        this.#held = total;
        return;
      }
      if (bytes[0] !== VERSION) throw invalidToken();
      this.#header = Buffer.from(bytes.subarray(0, HEADER_BYTES));
      this.#hmac.update(this.#header);
      this.#decipher = createDecipheriv(
        'aes-128-cbc',
        this.#keys.encryptionKey,
        this.#header.subarray(9),
      );
      start = HEADER_BYTES;
    }
    const release = total - MAC_BYTES;
    if (release > start) {
      const body = bytes.subarray(start, release);
      this.#hmac.update(body);
      this.#bodyBytes += body.length;
      const plain = this.#decipher.update(body);
      if (plain.length > 0) this.#emit(plain);
      start = release;
    }
    bytes.copy(bytes, 0, start, total);
    this.#held = total - start;
  }
}
