import { TransformStream } from 'node:stream/web';
import { type DecryptStreamOptions, streamOpener } from './decrypt-stream.js';
import { type EncryptStreamOptions, streamHeader } from './encrypt-stream.js';
import { invalidArgument } from './errors.js';
import { type FernetKey, parseKey } from './key.js';
import { checkSignal, onAbort } from './stream-signal.js';
import { recordEncrypted } from './telemetry.js';
import { TokenSealer } from './token-seal.js';

// Plain views, not Buffers: a Web consumer's `slice()` must copy, as Uint8Array's does.
const view = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function bytesOf(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  throw invalidArgument('the Web streams take Uint8Array chunks (encode text with TextEncoder)');
}

/**
 * The Web Streams form of {@link createEncryptStream}: a `TransformStream` that encrypts the
 * bytes written to it into **one standard Fernet token**, emitted as url-safe base64 text
 * (latin1 bytes) with padding and no trailing newline, with bounded memory. Python's
 * `Fernet(key).decrypt(...)` reads the result.
 *
 * ```ts
 * await readable.pipeThrough(createEncryptWebStream(key)).pipeTo(writable);
 * ```
 *
 * @throws FernetError `ERR_FERNET_INVALID_KEY` or `ERR_FERNET_INVALID_OPTION` at once for a bad
 *   key or option; the stream errors with `ERR_FERNET_INVALID_ARGUMENT` for a chunk that is not a
 *   `Uint8Array`.
 */
export function createEncryptWebStream(
  key: FernetKey,
  options: EncryptStreamOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const keys = parseKey(key);
  const header = streamHeader(options);
  const signal = checkSignal(options.signal);
  let sealer: TokenSealer;
  let unlink = () => {};
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      sealer = new TokenSealer(keys, header, (text) => controller.enqueue(view(text)));
      unlink = onAbort(signal, 'createEncryptWebStream', (err) => controller.error(err));
    },
    transform(chunk) {
      const bytes = bytesOf(chunk);
      recordEncrypted(bytes.length);
      sealer.update(bytes);
    },
    flush() {
      unlink();
      sealer.end();
    },
  });
}

/**
 * The Web Streams form of {@link createDecryptStream}: a `TransformStream` that decrypts **one
 * standard Fernet token** (its text as bytes; a trailing newline is allowed) with bounded memory.
 *
 * **What it guarantees** is what {@link createDecryptStream} does: a Fernet token carries its MAC
 * at the very end, so this stream emits plaintext *before* it can know that the token is
 * authentic. The MAC is checked, in constant time, when the input ends; if it does not match
 * (or the token is malformed, truncated or expired) the stream errors with a `FernetError`
 * *after* having emitted unauthenticated plaintext. Never let that output reach its final
 * destination before the stream has finished without error; use {@link decryptFile} or the
 * chunked format to release only verified data.
 *
 * @throws FernetError `ERR_FERNET_INVALID_KEY` or `ERR_FERNET_INVALID_OPTION` at once for a bad
 *   key or option.
 */
export function createDecryptWebStream(
  key: FernetKey,
  options: DecryptStreamOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  let enqueue: (plain: Uint8Array) => void = () => {};
  const opener = streamOpener(key, options, (plain) => enqueue(view(plain)));
  const signal = checkSignal(options.signal);
  let unlink = () => {};
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      enqueue = (plain) => controller.enqueue(plain);
      unlink = onAbort(signal, 'createDecryptWebStream', (err) => controller.error(err));
    },
    transform(chunk) {
      opener.update(bytesOf(chunk));
    },
    flush() {
      unlink();
      opener.end();
    },
  });
}
