import {
  createDecipheriv,
  createHmac,
  type Decipher,
  type Hmac,
  timingSafeEqual,
} from 'node:crypto';
import { Transform } from 'node:stream';
import { Base64UrlDecoder } from './base64-stream.js';
import { invalidToken } from './errors.js';
import type { DecryptOptions } from './fernet.js';
import { type FernetKey, parseKey } from './key.js';
import { checkSeconds, checkTime } from './time-check.js';
import {
  BLOCK_BYTES,
  DEFAULT_MAX_CLOCK_SKEW_SECONDS,
  HEADER_BYTES,
  MAC_BYTES,
  readTimestamp,
  VERSION,
} from './token-format.js';

/** Input text per decoding step: small buffers are recycled instead of freshly mapped. */
const SLICE_TEXT = 64 * 1024;

/** Options of {@link createDecryptStream}. */
export interface DecryptStreamOptions extends DecryptOptions {
  /**
   * The clock, in milliseconds since the epoch, to judge `ttl` against when `now` is not given.
   * @default Date.now
   */
  clock?: () => number;
  /**
   * Allowed clock skew in seconds for tokens from the future, applied with `ttl`.
   * @default 60
   */
  maxClockSkewSeconds?: number;
}

/**
 * A Transform that decrypts **one standard Fernet token** (url-safe base64 text, e.g. written by
 * Python's `Fernet.encrypt` or {@link createEncryptStream}; a trailing newline is allowed) with
 * bounded memory.
 *
 * **What it guarantees.** A Fernet token carries its MAC at the very end, so this stream emits
 * plaintext *before* it can know that the token is authentic. The MAC is checked, in constant
 * time, when the input ends; if it does not match (or the token is malformed, truncated or
 * expired) the stream errors with a `FernetError` *after* having emitted unauthenticated
 * plaintext. Never let that output reach its final destination before the stream has finished
 * without error: write it to a temporary file and move it into place afterwards, which is what
 * {@link decryptFile} does. To release only verified data while streaming (e.g. into `psql`),
 * use the chunked format ({@link createChunkedDecryptStream}).
 */
export function createDecryptStream(key: FernetKey, options: DecryptStreamOptions = {}): Transform {
  const keys = parseKey(key);
  checkSeconds('ttl', options.ttl);
  checkSeconds('maxClockSkewSeconds', options.maxClockSkewSeconds);
  const decoder = new Base64UrlDecoder();
  const hmac: Hmac = createHmac('sha256', keys.signingKey);
  let head: Buffer = Buffer.alloc(0);
  let decipher: Decipher | undefined;
  let tail: Buffer = Buffer.alloc(0); // the last MAC_BYTES seen: the MAC candidate
  let bodyBytes = 0;

  const absorb = (stream: Transform, bytes: Buffer) => {
    if (decipher === undefined) {
      head = Buffer.concat([head, bytes]);
      if (head.length < HEADER_BYTES) return;
      if (head[0] !== VERSION) throw invalidToken();
      const header = Buffer.from(head.subarray(0, HEADER_BYTES));
      hmac.update(header);
      decipher = createDecipheriv('aes-128-cbc', keys.encryptionKey, header.subarray(9));
      bytes = head.subarray(HEADER_BYTES);
      head = header;
    }
    const all = tail.length === 0 ? bytes : Buffer.concat([tail, bytes]);
    const release = all.length - MAC_BYTES;
    if (release <= 0) {
      tail = all;
      return;
    }
    const body = all.subarray(0, release);
    tail = Buffer.from(all.subarray(release));
    bodyBytes += body.length;
    hmac.update(body);
    const plain = decipher.update(body);
    if (plain.length > 0) stream.push(plain);
  };

  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        for (let at = 0; at < chunk.length; at += SLICE_TEXT) {
          absorb(this, decoder.write(chunk.subarray(at, at + SLICE_TEXT)));
        }
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback) {
      try {
        absorb(this, decoder.end());
        if (decipher === undefined || tail.length !== MAC_BYTES) throw invalidToken();
        if (bodyBytes === 0 || bodyBytes % BLOCK_BYTES !== 0) throw invalidToken();
        if (!timingSafeEqual(hmac.digest(), tail)) throw invalidToken();
        checkTime(readTimestamp(head), {
          ttl: options.ttl,
          now: options.now ?? Math.floor((options.clock ?? Date.now)() / 1000),
          maxClockSkew: options.maxClockSkewSeconds ?? DEFAULT_MAX_CLOCK_SKEW_SECONDS,
        });
        let last: Buffer;
        try {
          last = decipher.final();
        } catch {
          throw invalidToken();
        }
        callback(null, last.length > 0 ? last : undefined);
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}
