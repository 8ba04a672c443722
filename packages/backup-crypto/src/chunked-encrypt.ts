import { randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import type { Clock } from '@org/core';
import { CHUNK_HEADER_BYTES, writeChunkHeader } from './chunk-header.js';
import { check } from './errors.js';
import { freshHeader } from './fernet.js';
import { type FernetKey, parseKey } from './key.js';
import { bindSignal, checkSignal, type StreamSignalOption } from './stream-signal.js';
import { recordEncrypted } from './telemetry.js';
import { checkClock } from './time-check.js';
import { TokenSealer } from './token-seal.js';

/** Options of {@link createChunkedEncryptStream}. */
export interface ChunkedEncryptOptions extends StreamSignalOption {
  /**
   * Plaintext bytes per chunk (per Fernet token), 1 to 64 MiB. Memory use grows with it.
   * @default 65536 (64 KiB)
   */
  chunkSize?: number | undefined;
  /**
   * The clock (core's `Clock`, milliseconds since the epoch) for the tokens' timestamps.
   * @default systemClock
   */
  clock?: Clock | undefined;
}

const NEWLINE = Buffer.from('\n');

/**
 * The default `chunkSize`, in bytes (64 KiB): the per-token overhead is about 0.2 %, and a
 * larger chunk costs memory (one chunk is held on each side) without making anything faster.
 */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;

/** The largest `chunkSize` accepted, in bytes (64 MiB). */
export const MAX_CHUNK_SIZE = 64 * 1024 * 1024;

/**
 * A Transform that encrypts its input into the **chunked format**: one standard Fernet token per
 * `chunkSize` bytes of input, each followed by `\n`. Each token's plaintext starts with a 30-byte
 * header (magic `FNTC`, version 1, final flag, chunk index, random stream id) so that a reader can
 * verify and release every chunk on its own and still detect reordering, duplication, splicing
 * from another backup and truncation. Empty input gives one empty final chunk.
 *
 * @throws FernetError `ERR_FERNET_INVALID_KEY` or `ERR_FERNET_INVALID_OPTION` at once for a bad
 *   key or option.
 */
export function createChunkedEncryptStream(
  key: FernetKey,
  chunkedOptions: ChunkedEncryptOptions = {},
): Transform {
  const keys = parseKey(key);
  const options = check.object(chunkedOptions, 'options');
  const chunkSize = check.integer(options.chunkSize, 'chunkSize', DEFAULT_CHUNK_SIZE, {
    min: 1,
    max: MAX_CHUNK_SIZE,
  });
  const clock = checkClock(options.clock);
  const signal = checkSignal(options.signal);
  const streamId = randomBytes(16);
  let index = 0n;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let scratch = Buffer.alloc(0);
  let sealer: TokenSealer | undefined;

  const seal = (stream: Transform, final: boolean, take: number) => {
    // One buffer, reused from chunk to chunk: the token is sealed from it synchronously.
    if (scratch.length < CHUNK_HEADER_BYTES + take)
      scratch = Buffer.allocUnsafe(CHUNK_HEADER_BYTES + take);
    const plain = scratch.subarray(0, CHUNK_HEADER_BYTES + take);
    writeChunkHeader(plain, index++, final, streamId);
    let at = CHUNK_HEADER_BYTES;
    while (at < plain.length) {
      const first = pending[0]!;
      const n = Math.min(first.length, plain.length - at);
      first.copy(plain, at, 0, n);
      at += n;
      if (n === first.length) pending.shift();
      else pending[0] = first.subarray(n);
    }
    pendingBytes -= take;
    recordEncrypted(take);
    // Pushed in pieces: one string per token would land in V8's large-object space and keep
    // the process's memory growing until a full GC.
    if (sealer === undefined) {
      sealer = new TokenSealer(keys, freshHeader(clock), (text) => stream.push(text));
    } else {
      sealer.restart(freshHeader(clock));
    }
    sealer.update(plain);
    sealer.end();
    stream.push(NEWLINE);
  };

  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      // A full chunk is sealed only once more input follows it: the last one must say final.
      while (pendingBytes > chunkSize) seal(this, false, chunkSize);
      callback();
    },
    flush(callback) {
      seal(this, true, pendingBytes);
      pending = [];
      callback();
    },
  });
  return bindSignal(stream, signal, 'createChunkedEncryptStream');
}
