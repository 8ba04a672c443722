import { randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { CHUNK_HEADER_BYTES, writeChunkHeader } from './chunk-header.js';
import { invalidArgument } from './errors.js';
import { freshHeader, sealBytes } from './fernet.js';
import { type FernetKey, parseKey } from './key.js';
import { encodeBase64Url } from './token-format.js';

/** Options of {@link createChunkedEncryptStream}. */
export interface ChunkedEncryptOptions {
  /**
   * Plaintext bytes per chunk (per Fernet token). Memory use is about twice this.
   * @default 1048576 (1 MiB)
   */
  chunkSize?: number;
  /**
   * The clock, in milliseconds since the epoch, for the tokens' timestamps.
   * @default Date.now
   */
  clock?: () => number;
}

/** The largest `chunkSize` accepted, in bytes (64 MiB). */
export const MAX_CHUNK_SIZE = 64 * 1024 * 1024;

/**
 * A Transform that encrypts its input into the **chunked format**: one standard Fernet token per
 * `chunkSize` bytes of input, each followed by `\n`. Each token's plaintext starts with a 30-byte
 * header (magic `FNTC`, version 1, final flag, chunk index, random stream id) so that a reader can
 * verify and release every chunk on its own and still detect reordering, duplication, splicing
 * from another backup and truncation. Empty input gives one empty final chunk.
 */
export function createChunkedEncryptStream(
  key: FernetKey,
  options: ChunkedEncryptOptions = {},
): Transform {
  const keys = parseKey(key);
  const chunkSize = options.chunkSize ?? 1024 * 1024;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw invalidArgument(`chunkSize must be an integer from 1 to ${MAX_CHUNK_SIZE} bytes`);
  }
  const clock = options.clock ?? Date.now;
  const streamId = randomBytes(16);
  let index = 0n;
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  const seal = (stream: Transform, final: boolean, take: number) => {
    const plain = Buffer.allocUnsafe(CHUNK_HEADER_BYTES + take);
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
    const token = encodeBase64Url(sealBytes(keys, freshHeader(clock), plain));
    stream.push(`${token}\n`, 'latin1');
  };

  return new Transform({
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
}
