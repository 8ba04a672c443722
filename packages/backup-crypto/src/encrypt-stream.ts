import { createCipheriv, createHmac } from 'node:crypto';
import { Transform } from 'node:stream';
import { Base64UrlEncoder } from './base64-stream.js';
import { type EncryptOptions, freshHeader, SLICE_BYTES } from './fernet.js';
import { type FernetKey, parseKey } from './key.js';

/** Options of {@link createEncryptStream}. */
export interface EncryptStreamOptions extends EncryptOptions {
  /**
   * The clock, in milliseconds since the epoch, for the token's timestamp.
   * @default Date.now
   */
  clock?: () => number;
}

/**
 * A Transform that encrypts whatever is written to it into **one standard Fernet token**, emitted
 * as url-safe base64 text with padding (no trailing newline) while the input streams through:
 * Python's `Fernet(key).decrypt(open(path, 'rb').read())` reads the result. Memory stays bounded
 * whatever the input size: AES-CBC, the HMAC and the base64 encoding all run incrementally.
 *
 * @throws FernetError `ERR_FERNET_INVALID_KEY` at once for a bad key.
 */
export function createEncryptStream(key: FernetKey, options: EncryptStreamOptions = {}): Transform {
  const keys = parseKey(key);
  const header = freshHeader(options.clock ?? Date.now, options);
  const cipher = createCipheriv('aes-128-cbc', keys.encryptionKey, header.subarray(9));
  const hmac = createHmac('sha256', keys.signingKey).update(header);
  const encoder = new Base64UrlEncoder();
  let started = false;
  // One push per write: many tiny chunks (the carried bytes) would raise peak memory by half.
  const emit = (stream: Transform, bytes: Buffer) => {
    let text = '';
    encoder.write(bytes, (t) => {
      text += t;
    });
    if (text.length > 0) stream.push(text, 'latin1');
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!started) {
        started = true;
        emit(this, header);
      }
      // Small slices keep every transient buffer small enough to be recycled, not freshly mapped.
      for (let at = 0; at < chunk.length; at += SLICE_BYTES) {
        const body = cipher.update(chunk.subarray(at, at + SLICE_BYTES));
        hmac.update(body);
        emit(this, body);
      }
      callback();
    },
    flush(callback) {
      if (!started) emit(this, header);
      const last = cipher.final();
      hmac.update(last);
      emit(this, last);
      emit(this, hmac.digest());
      encoder.end((text) => this.push(text, 'latin1'));
      callback();
    },
  });
}
