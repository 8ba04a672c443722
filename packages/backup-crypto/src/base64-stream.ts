import { invalidToken } from './errors.js';

const isSpace = (c: number) => c === 0x0a || c === 0x0d || c === 0x20 || c === 0x09;

/**
 * @internal Incremental url-safe base64 encoder with padding: `write` returns the text for every
 * complete 3-byte group seen so far, `end` the rest.
 */
export class Base64UrlEncoder {
  #carry: Buffer = Buffer.alloc(0);

  /** Hands `emit` the text of every complete 3-byte group, in at most two flat strings. */
  write(bytes: Buffer, emit: (text: string) => void): void {
    let rest = bytes;
    if (this.#carry.length > 0) {
      const need = 3 - this.#carry.length;
      if (bytes.length < need) {
        this.#carry = Buffer.concat([this.#carry, bytes]);
        return;
      }
      emit(Buffer.concat([this.#carry, bytes.subarray(0, need)]).toString('base64url'));
      rest = bytes.subarray(need);
    }
    const whole = rest.length - (rest.length % 3);
    this.#carry = Buffer.from(rest.subarray(whole));
    // One string per call (no `a + b`): a concatenation would be copied again when flattened.
    if (whole > 0) emit(rest.toString('base64url', 0, whole));
  }

  end(emit: (text: string) => void): void {
    const n = this.#carry.length;
    if (n > 0) emit(this.#carry.toString('base64url') + (n === 1 ? '==' : '='));
    this.#carry = Buffer.alloc(0);
  }
}

/**
 * @internal Incremental strict url-safe base64 decoder. Padding may only end the text; trailing
 * whitespace (a newline after the token) is allowed, anything else throws the generic
 * ERR_FERNET_INVALID_TOKEN.
 */
export class Base64UrlDecoder {
  #carry = '';
  #ended = false;
  #spaceSeen = false;

  write(chunk: Buffer): Buffer {
    let end = chunk.length;
    while (end > 0 && isSpace(chunk[end - 1]!)) end--;
    if (end === 0) {
      if (chunk.length > 0) this.#spaceSeen = true;
      return Buffer.alloc(0);
    }
    if (this.#spaceSeen || this.#ended) throw invalidToken();
    if (end < chunk.length) this.#spaceSeen = true;
    const text = this.#carry + chunk.toString('latin1', 0, end);
    const whole = text.length - (text.length % 4);
    this.#carry = text.slice(whole);
    return this.#decode(text.slice(0, whole));
  }

  end(): Buffer {
    if (this.#carry.length !== 0) throw invalidToken();
    return Buffer.alloc(0);
  }

  #decode(text: string): Buffer {
    if (text.length === 0) return Buffer.alloc(0);
    let pad = 0;
    while (pad < 2 && text.charCodeAt(text.length - 1 - pad) === 0x3d) pad++;
    if (pad > 0) this.#ended = true;
    const bytes = Buffer.from(text, 'base64url');
    if (bytes.length !== (text.length / 4) * 3 - pad) throw invalidToken();
    return bytes;
  }
}
