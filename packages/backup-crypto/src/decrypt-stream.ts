import { Transform } from 'node:stream';
import { check } from './errors.js';
import type { DecryptOptions, FernetOptions } from './fernet.js';
import { type FernetKey, parseKey } from './key.js';
import { bindSignal, checkSignal, type StreamSignalOption } from './stream-signal.js';
import { recordDecrypted } from './telemetry.js';
import { checkTtl, timePolicy, timeSettings } from './time-check.js';
import { TokenStreamOpener } from './token-stream-open.js';

/**
 * Options of {@link createDecryptStream} and {@link createDecryptWebStream}: `ttl`, and the
 * `clock` and `maxClockSkew` of {@link FernetOptions}.
 */
export interface DecryptStreamOptions extends DecryptOptions, FernetOptions, StreamSignalOption {}

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
 *
 * @throws FernetError `ERR_FERNET_INVALID_KEY` or `ERR_FERNET_INVALID_OPTION` at once for a bad
 *   key or option.
 */
export function createDecryptStream(key: FernetKey, options: DecryptStreamOptions = {}): Transform {
  const opener = streamOpener(key, options, (plain) => stream.push(plain));
  const signal = checkSignal(options.signal);
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        opener.update(chunk);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback) {
      try {
        opener.end();
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
  return bindSignal(stream, signal, 'createDecryptStream');
}

/** @internal Validates the options and makes the decryption core of both stream forms. */
export function streamOpener(
  key: FernetKey,
  options: DecryptStreamOptions,
  emit: (plain: Buffer) => void,
): TokenStreamOpener {
  const keys = parseKey(key);
  const o = check.object(options, 'options');
  const time = timeSettings(o);
  const ttlMs = checkTtl(o.ttl);
  // The clock is read at the end, once the MAC has verified.
  return new TokenStreamOpener(
    keys,
    () => timePolicy(time, ttlMs),
    (plain) => {
      recordDecrypted(plain.length);
      emit(plain);
    },
  );
}
