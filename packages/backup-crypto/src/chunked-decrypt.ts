import { Transform } from 'node:stream';
import { CHUNK_HEADER_BYTES, readChunkHeader } from './chunk-header.js';
import { MAX_CHUNK_SIZE } from './chunked-encrypt.js';
import { FernetError, FernetErrorCode, invalidToken } from './errors.js';
import type { FernetOptions } from './fernet.js';
import type { FernetKey } from './key.js';
import { MultiFernet } from './multi-fernet.js';

/** Options of {@link createChunkedDecryptStream}. */
export interface ChunkedDecryptOptions extends FernetOptions {
  /**
   * Maximum age of each chunk's token in seconds.
   * @default undefined (no limit)
   */
  ttl?: number;
  /**
   * The largest chunk plaintext accepted, in bytes; bounds memory against a hostile input.
   * @default 67108864 (64 MiB)
   */
  maxChunkSize?: number;
}

const sequenceError = (what: string) =>
  new FernetError(
    FernetErrorCode.ChunkSequence,
    `Chunked backup is not intact: ${what}; restore from an unaltered copy of the backup`,
  );

/**
 * A Transform that reads the chunked format written by {@link createChunkedEncryptStream} (or the
 * Python tool beside this package) and emits each chunk's data **only after its token has been
 * verified** and its index checked, so it may be piped straight into `psql`.
 *
 * It errors with `ERR_FERNET_INVALID_TOKEN` on any altered chunk, `ERR_FERNET_CHUNK_SEQUENCE` on
 * reordered, duplicated or foreign chunks or data after the final chunk, and
 * `ERR_FERNET_TRUNCATED` when the input ends before the final chunk. Data of the chunks before
 * the failure has been emitted (each one authentic); a consumer must treat the restore as failed.
 *
 * @param key one key, or several (current first) to read backups made with an older key.
 */
export function createChunkedDecryptStream(
  key: FernetKey | readonly FernetKey[],
  options: ChunkedDecryptOptions = {},
): Transform {
  const fernet = new MultiFernet(Array.isArray(key) ? key : [key as FernetKey], options);
  const maxChunk = options.maxChunkSize ?? MAX_CHUNK_SIZE;
  const maxLine = Math.ceil((25 + CHUNK_HEADER_BYTES + maxChunk + 16 + 32) / 3) * 4 + 1;
  let parts: Buffer[] = [];
  let partBytes = 0;
  let expected = 0n;
  let streamId: Buffer | undefined;
  let done = false;

  const line = (stream: Transform, text: Buffer) => {
    let end = text.length;
    if (end > 0 && text[end - 1] === 0x0d) end--;
    if (end === 0) return;
    if (done) throw sequenceError('data follows the final chunk');
    const plain = fernet.decrypt(text.subarray(0, end), { ttl: options.ttl });
    const header = readChunkHeader(plain);
    streamId ??= Buffer.from(header.streamId);
    if (!header.streamId.equals(streamId)) throw sequenceError('a chunk of another backup');
    if (header.index !== expected) {
      throw sequenceError(`chunk ${header.index} where chunk ${expected} was expected`);
    }
    expected++;
    done = header.final;
    if (plain.length > CHUNK_HEADER_BYTES) stream.push(plain.subarray(CHUNK_HEADER_BYTES));
  };

  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        let from = 0;
        for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
          parts.push(chunk.subarray(from, nl));
          line(this, parts.length === 1 ? parts[0]! : Buffer.concat(parts));
          parts = [];
          partBytes = 0;
          from = nl + 1;
        }
        if (from < chunk.length) {
          parts.push(chunk.subarray(from));
          partBytes += chunk.length - from;
          if (partBytes > maxLine) throw invalidToken();
        }
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback) {
      try {
        if (parts.length > 0) line(this, Buffer.concat(parts));
        if (!done) {
          throw new FernetError(
            FernetErrorCode.Truncated,
            'Chunked backup ends before its final chunk: the file is truncated; the data ' +
              'restored so far is incomplete',
          );
        }
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}
