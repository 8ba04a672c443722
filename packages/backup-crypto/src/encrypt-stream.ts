import { Transform } from 'node:stream';
import type { Clock } from '@org/core';
import { check } from './errors.js';
import { type EncryptOptions, freshHeader } from './fernet.js';
import { type FernetKey, parseKey } from './key.js';
import { bindSignal, checkSignal, type StreamSignalOption } from './stream-signal.js';
import { recordEncrypted } from './telemetry.js';
import { checkClock } from './time-check.js';
import { TokenSealer } from './token-seal.js';

/** Options of {@link createEncryptStream} and {@link createEncryptWebStream}. */
export interface EncryptStreamOptions extends EncryptOptions, StreamSignalOption {
  /**
   * The clock (core's `Clock`, milliseconds since the epoch) for the token's timestamp, unless
   * `timestamp` is given.
   * @default systemClock
   */
  clock?: Clock | undefined;
}

/** @internal The header of the one token a stream writes, from its options. */
export function streamHeader(options: EncryptStreamOptions): Buffer {
  const o = check.object(options, 'options');
  return freshHeader(checkClock(o.clock), o);
}

/**
 * A Transform that encrypts whatever is written to it into **one standard Fernet token**, emitted
 * as url-safe base64 text with padding (no trailing newline) while the input streams through:
 * Python's `Fernet(key).decrypt(open(path, 'rb').read())` reads the result. Memory stays bounded
 * whatever the input size: AES-CBC, the HMAC and the base64 encoding all run incrementally.
 *
 * @throws FernetError `ERR_FERNET_INVALID_KEY` or `ERR_FERNET_INVALID_OPTION` at once for a bad
 *   key or option.
 */
export function createEncryptStream(key: FernetKey, options: EncryptStreamOptions = {}): Transform {
  const keys = parseKey(key);
  const header = streamHeader(options);
  const signal = checkSignal(options.signal);
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      recordEncrypted(chunk.length);
      sealer.update(chunk);
      callback();
    },
    flush(callback) {
      sealer.end();
      callback();
    },
  });
  const sealer = new TokenSealer(keys, header, (text) => stream.push(text));
  return bindSignal(stream, signal, 'createEncryptStream');
}
