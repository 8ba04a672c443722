import { invalidToken } from './errors.js';

const isSpace = (c: number) => c === 0x0a || c === 0x0d || c === 0x20 || c === 0x09;

/**
 * @internal Incremental strict url-safe base64 decoder. Padding may only end the text; trailing
 * whitespace (a newline after the token) is allowed, anything else throws the generic
 * ERR_FERNET_INVALID_TOKEN.
 */
export class Base64UrlDecoder {
  #carry = '';
  #ended = false;
  #spaceSeen = false;

  /** The most bytes that `decodeInto` can write for a chunk of `textBytes`. */
  static maxBytes(textBytes: number): number {
    return Math.floor((textBytes + 3) / 4) * 3;
  }

  /** Decodes a chunk of text into a new buffer. */
  write(chunk: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(Base64UrlDecoder.maxBytes(chunk.length));
    return out.subarray(0, this.decodeInto(chunk, out, 0));
  }

  /**
   * Decodes a chunk of text into `target` at `offset` (which must have room for
   * `maxBytes(chunk.length)` bytes) and returns how many bytes it wrote: decoding into a buffer
   * the caller reuses allocates nothing but the chunk's text.
   */
  decodeInto(chunk: Uint8Array, target: Buffer, offset: number): number {
    let end = chunk.length;
    while (end > 0 && isSpace(chunk[end - 1]!)) end--;
    if (end === 0) {
      if (chunk.length > 0) this.#spaceSeen = true;
      return 0;
    }
    if (this.#spaceSeen || this.#ended) throw invalidToken();
    if (end < chunk.length) this.#spaceSeen = true;
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let text = bytes.toString('latin1', 0, end);
    if (this.#carry.length > 0) text = this.#carry + text;
    const whole = text.length - (text.length % 4);
    this.#carry = text.slice(whole);
    if (whole === 0) return 0;
    if (whole < text.length) text = text.slice(0, whole);
    let pad = 0;
    while (pad < 2 && text.charCodeAt(text.length - 1 - pad) === 0x3d) pad++;
    if (pad > 0) this.#ended = true;
    // Node's decoder skips characters outside the alphabet: a short count means the text was
    // not base64 (this also catches `=` anywhere but at the end).
    const n = target.write(text, offset, 'base64url');
    if (n !== (text.length / 4) * 3 - pad) throw invalidToken();
    return n;
  }

  end(): void {
    if (this.#carry.length !== 0) throw invalidToken();
  }
}
