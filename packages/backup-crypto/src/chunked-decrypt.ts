import { Transform } from 'node:stream';
import { Base64UrlDecoder } from './base64-stream.js';
import { CHUNK_HEADER_BYTES, readChunkHeader } from './chunk-header.js';
import { MAX_CHUNK_SIZE } from './chunked-encrypt.js';
import { check, FernetError, FernetErrorCode, invalidArgument, invalidToken } from './errors.js';
import {
  type DecryptOptions,
  type FernetOptions,
  macMatches,
  openVerifiedParts,
} from './fernet.js';
import { type FernetKey, parseKey } from './key.js';
import { bindSignal, checkSignal, type StreamSignalOption } from './stream-signal.js';
import { recordDecrypted } from './telemetry.js';
import { checkTtl, timePolicy, timeSettings } from './time-check.js';
import { checkTokenShape } from './token-format.js';

/** Input text per decoding step. */
const SLICE_TEXT = 64 * 1024;

/** Options of {@link createChunkedDecryptStream}. */
export interface ChunkedDecryptOptions extends FernetOptions, DecryptOptions, StreamSignalOption {
  /**
   * The largest chunk plaintext accepted, in bytes; bounds memory against a hostile input.
   * @default 67108864 (64 MiB)
   */
  maxChunkSize?: number | undefined;
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
 * @throws FernetError `ERR_FERNET_INVALID_KEY` or `ERR_FERNET_INVALID_OPTION` at once for a bad
 *   key or option, `ERR_FERNET_INVALID_ARGUMENT` for an empty key list.
 */
export function createChunkedDecryptStream(
  key: FernetKey | readonly FernetKey[],
  chunkedOptions: ChunkedDecryptOptions = {},
): Transform {
  const options = check.object(chunkedOptions, 'options');
  const keys = (Array.isArray(key) ? key : [key as FernetKey]).map(parseKey);
  if (keys.length === 0) throw invalidArgument('createChunkedDecryptStream needs at least one key');
  const time = timeSettings(options);
  const ttlMs = checkTtl(options.ttl);
  const signal = checkSignal(options.signal);
  const maxChunk = check.integer(options.maxChunkSize, 'maxChunkSize', MAX_CHUNK_SIZE, { min: 1 });
  const maxLine = Math.ceil((25 + CHUNK_HEADER_BYTES + maxChunk + 16 + 32) / 3) * 4 + 1;
  let parts: Buffer[] = [];
  let partBytes = 0;
  let expected = 0n;
  let streamId: Buffer | undefined;
  let done = false;
  // Decoded token bytes, reused from chunk to chunk so that memory stays flat.
  let scratch = Buffer.alloc(0);

  const decode = (pieces: Buffer[], textBytes: number): Buffer => {
    // Decoding writes at most 3 bytes per 4 characters, plus up to 3 for a carried group.
    if (scratch.length < textBytes + 4) scratch = Buffer.allocUnsafe(textBytes + 4);
    const decoder = new Base64UrlDecoder();
    let at = 0;
    for (const piece of pieces) {
      for (let i = 0; i < piece.length; i += SLICE_TEXT) {
        at += decoder.decodeInto(piece.subarray(i, i + SLICE_TEXT), scratch, at);
      }
    }
    decoder.end();
    return scratch.subarray(0, at);
  };

  const line = (stream: Transform, pieces: Buffer[], textBytes: number) => {
    const last = pieces[pieces.length - 1]!;
    if (last.length > 0 && last[last.length - 1] === 0x0d) {
      pieces[pieces.length - 1] = last.subarray(0, last.length - 1);
      textBytes--;
    }
    if (textBytes === 0) return;
    if (done) throw sequenceError('data follows the final chunk');
    const data = checkTokenShape(decode(pieces, textBytes));
    const matching = keys.filter((k) => macMatches(k, data));
    if (matching.length === 0) throw invalidToken();
    const plain = openVerifiedParts(matching[0]!, data, timePolicy(time, ttlMs));
    const first = plain[0] ?? Buffer.alloc(0);
    const header = readChunkHeader(
      first.length >= CHUNK_HEADER_BYTES ? first : Buffer.concat(plain),
    );
    streamId ??= Buffer.from(header.streamId);
    if (!header.streamId.equals(streamId)) throw sequenceError('a chunk of another backup');
    if (header.index !== expected) {
      throw sequenceError(`chunk ${header.index} where chunk ${expected} was expected`);
    }
    expected++;
    done = header.final;
    // Only now, with the token verified and the header checked, is any of its data released.
    let skip = CHUNK_HEADER_BYTES;
    for (const piece of plain) {
      if (skip >= piece.length) {
        skip -= piece.length;
        continue;
      }
      recordDecrypted(piece.length - skip);
      stream.push(skip > 0 ? piece.subarray(skip) : piece);
      skip = 0;
    }
  };

  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        let from = 0;
        for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
          parts.push(chunk.subarray(from, nl));
          line(this, parts, partBytes + nl - from);
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
        if (parts.length > 0) line(this, parts, partBytes);
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
  return bindSignal(stream, signal, 'createChunkedDecryptStream');
}
