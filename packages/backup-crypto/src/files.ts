import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Clock, type Duration, withTimeout } from '@org/core';
import { createChunkedDecryptStream } from './chunked-decrypt.js';
import { createChunkedEncryptStream } from './chunked-encrypt.js';
import { createDecryptStream } from './decrypt-stream.js';
import { createEncryptStream } from './encrypt-stream.js';
import { check, invalidArgument } from './errors.js';
import { type FernetKey, parseKey } from './key.js';
import { scanTokenFile } from './key-scan.js';
import { withTempOutput } from './temp-output.js';

/** What {@link FileOptions.onProgress} is told as the input is read. */
export interface FileProgress {
  /** Bytes of the input read so far. */
  bytesRead: number;
  /** The input's size in bytes. */
  totalBytes: number;
}

/** Options of {@link encryptFile}, {@link decryptFile} and {@link rotateFile}. */
export interface FileOptions {
  /**
   * Use the chunked format (a line of Fernet token per chunk) instead of one Fernet token.
   * @default false
   */
  chunked?: boolean | undefined;
  /**
   * Plaintext bytes per chunk when writing the chunked format.
   * @default 65536 (64 KiB)
   */
  chunkSize?: number | undefined;
  /**
   * Maximum token age when decrypting: **milliseconds** as a number, or a string such as `'7d'`.
   * Judged in whole seconds, as Python does.
   * @default undefined (no limit)
   */
  ttl?: Duration | undefined;
  /**
   * The clock (core's `Clock`) for new tokens' timestamps and for judging `ttl`.
   * @default systemClock
   */
  clock?: Clock | undefined;
  /**
   * Cancels the operation: it rejects with core's `AbortedError` (`ERR_ABORTED`, `cause` = the
   * signal's reason) once the output is cleaned up, and the output file is left untouched.
   */
  signal?: AbortSignal | undefined;
  /**
   * Bound on the whole operation: milliseconds as a number, or a string such as `'2h'`. Past it
   * the operation stops, leaves the output untouched and rejects with core's `TimeoutError`
   * (`ERR_TIMEOUT`). A backup takes as long as it takes, so there is none by default.
   * @default undefined (no timeout)
   */
  timeout?: Duration | undefined;
  /** Called as input is read, with one {@link FileProgress} object. */
  onProgress?: ((progress: FileProgress) => void) | undefined;
}

const keyList = (key: FernetKey | readonly FernetKey[]): readonly FernetKey[] =>
  Array.isArray(key) ? key : [key as FernetKey];

/**
 * Runs a file operation under the caller's signal and `timeout` (core's `withTimeout`): an abort
 * rejects with `AbortedError`, the deadline with `TimeoutError`. Those rejections wait for the
 * operation itself to settle, so that its temporary file is gone when the caller hears of it.
 */
async function guarded(
  what: string,
  options: FileOptions,
  operation: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const timeoutMs = check.duration(options.timeout, 'timeout');
  let work: Promise<void> | undefined;
  try {
    await withTimeout(
      (signal) => {
        work = operation(signal);
        return work;
      },
      {
        timeoutMs: timeoutMs ?? false,
        signal: options.signal,
        what,
        hint: 'raise its `timeout`, or omit it for none',
      },
    );
  } catch (err) {
    await work?.catch(() => {});
    throw err;
  }
}

async function run(
  src: string,
  dst: string,
  stages: Transform[],
  options: FileOptions,
  signal: AbortSignal,
) {
  const { size } = await stat(src);
  await withTempOutput(dst, async (out) => {
    const input = createReadStream(src, { highWaterMark: 64 * 1024 });
    let read = 0;
    const onProgress = options.onProgress;
    const progress = new PassThrough({
      transform(chunk: Buffer, _e, cb) {
        read += chunk.length;
        onProgress?.({ bytesRead: read, totalBytes: size });
        cb(null, chunk);
      },
    });
    await pipeline([input, progress, ...stages, out], { signal });
  });
}

/**
 * Encrypts the file `src` into `dst`: one standard Fernet token (Python's `Fernet.decrypt` reads
 * it), or the chunked format with `chunked: true`. Memory stays bounded whatever the size. `dst`
 * is written through a temporary file beside it and appears only complete.
 *
 * @throws FernetError `ERR_FERNET_INVALID_KEY` / `ERR_FERNET_INVALID_OPTION`; core's
 *   `AbortedError` / `TimeoutError`; file system errors as is.
 */
export async function encryptFile(
  src: string,
  dst: string,
  key: FernetKey,
  fileOptions: FileOptions = {},
): Promise<void> {
  const options = check.object(fileOptions, 'options');
  const { chunkSize, clock } = options;
  const stage = options.chunked
    ? createChunkedEncryptStream(key, { chunkSize, clock })
    : createEncryptStream(key, { clock });
  await guarded('encryptFile', options, (signal) => run(src, dst, [stage], options, signal));
}

/**
 * Decrypts `src` into `dst`. The plaintext goes to a temporary file (mode 0600) beside `dst`,
 * which is moved onto `dst` only after the MAC has verified; on any failure it is removed and
 * `dst` is left untouched. With several keys (current first), a single-token file is first read
 * once to find its key by MAC.
 *
 * @throws FernetError `ERR_FERNET_INVALID_TOKEN`, `ERR_FERNET_TOKEN_EXPIRED`, and for the
 *   chunked format `ERR_FERNET_CHUNK_SEQUENCE` / `ERR_FERNET_TRUNCATED`; core's `AbortedError` /
 *   `TimeoutError`; file system errors as is.
 */
export async function decryptFile(
  src: string,
  dst: string,
  key: FernetKey | readonly FernetKey[],
  fileOptions: FileOptions = {},
): Promise<void> {
  const options = check.object(fileOptions, 'options');
  const keys = keyList(key);
  if (keys.length === 0) throw invalidArgument('decryptFile needs at least one key');
  const { ttl, clock } = options;
  if (options.chunked) {
    const stage = createChunkedDecryptStream(keys, { ttl, clock });
    await guarded('decryptFile', options, (signal) => run(src, dst, [stage], options, signal));
    return;
  }
  const parsed = keys.map(parseKey);
  createDecryptStream(keys[0]!, { ttl, clock }); // validates the options before any I/O
  await guarded('decryptFile', options, async (signal) => {
    const index = keys.length > 1 ? (await scanTokenFile(src, parsed, signal)).index : 0;
    await run(src, dst, [createDecryptStream(keys[index]!, { ttl, clock })], options, signal);
  });
}

/**
 * Re-encrypts a backup made with any of `keys` under `keys[0]`, file to file, without the
 * plaintext touching the disk. A single token keeps its original timestamp (as Python's
 * `MultiFernet.rotate`); in the chunked format each chunk is rotated on its own. `dst` appears
 * only once every MAC has verified.
 *
 * @throws as {@link decryptFile}.
 */
export async function rotateFile(
  src: string,
  dst: string,
  keys: readonly FernetKey[],
  fileOptions: FileOptions = {},
): Promise<void> {
  const options = check.object(fileOptions, 'options');
  if (!Array.isArray(keys) || keys.length === 0) {
    throw invalidArgument('rotateFile needs a list of at least one key, the current key first');
  }
  const { ttl, clock, chunkSize } = options;
  if (options.chunked) {
    const stages = [
      createChunkedDecryptStream(keys, { ttl, clock }),
      createChunkedEncryptStream(keys[0]!, { chunkSize, clock }),
    ];
    await guarded('rotateFile', options, (signal) => run(src, dst, stages, options, signal));
    return;
  }
  const parsed = keys.map(parseKey);
  createDecryptStream(keys[0]!, { ttl, clock }); // validates the options before any I/O
  await guarded('rotateFile', options, async (signal) => {
    const { index, timestamp } = await scanTokenFile(src, parsed, signal);
    const stages = [
      createDecryptStream(keys[index]!, { ttl, clock }),
      createEncryptStream(keys[0]!, { timestamp }),
    ];
    await run(src, dst, stages, options, signal);
  });
}
