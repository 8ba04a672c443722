import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createChunkedDecryptStream } from './chunked-decrypt.js';
import { createChunkedEncryptStream } from './chunked-encrypt.js';
import { createDecryptStream } from './decrypt-stream.js';
import { createEncryptStream } from './encrypt-stream.js';
import { invalidArgument } from './errors.js';
import { type FernetKey, parseKey } from './key.js';
import { scanTokenFile } from './key-scan.js';
import { withTempOutput } from './temp-output.js';

/** Options of {@link encryptFile}, {@link decryptFile} and {@link rotateFile}. */
export interface FileOptions {
  /**
   * Use the chunked format (a line of Fernet token per chunk) instead of one Fernet token.
   * @default false
   */
  chunked?: boolean;
  /**
   * Plaintext bytes per chunk when writing the chunked format.
   * @default 65536 (64 KiB)
   */
  chunkSize?: number;
  /**
   * Maximum token age in seconds when decrypting.
   * @default undefined (no limit)
   */
  ttl?: number;
  /**
   * Cancels the operation; the output file is then left untouched. File operations have no
   * default timeout (a backup takes as long as it takes): pass `AbortSignal.timeout(ms)` to bound it.
   */
  signal?: AbortSignal;
  /** Called as input is read, with the bytes read so far and the input's size in bytes. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

const keyList = (key: FernetKey | readonly FernetKey[]): readonly FernetKey[] =>
  Array.isArray(key) ? key : [key as FernetKey];

async function run(src: string, dst: string, stages: Transform[], options: FileOptions) {
  const { size } = await stat(src);
  await withTempOutput(dst, async (out) => {
    const input = createReadStream(src, { highWaterMark: 64 * 1024 });
    let read = 0;
    const progress = new PassThrough({
      transform(chunk: Buffer, _e, cb) {
        read += chunk.length;
        options.onProgress?.(read, size);
        cb(null, chunk);
      },
    });
    const signal = options.signal;
    await (signal
      ? pipeline([input, progress, ...stages, out], { signal })
      : pipeline([input, progress, ...stages, out]));
  });
}

/**
 * Encrypts the file `src` into `dst`: one standard Fernet token (Python's `Fernet.decrypt` reads
 * it), or the chunked format with `chunked: true`. Memory stays bounded whatever the size. `dst`
 * is written through a temporary file beside it and appears only complete.
 */
export async function encryptFile(
  src: string,
  dst: string,
  key: FernetKey,
  options: FileOptions = {},
): Promise<void> {
  const stage = options.chunked
    ? createChunkedEncryptStream(key, { chunkSize: options.chunkSize })
    : createEncryptStream(key);
  await run(src, dst, [stage], options);
}

/**
 * Decrypts `src` into `dst`. The plaintext goes to a temporary file (mode 0600) beside `dst`,
 * which is moved onto `dst` only after the MAC has verified; on any failure it is removed and
 * `dst` is left untouched. With several keys (current first), a single-token file is first read
 * once to find its key by MAC.
 *
 * @throws FernetError `ERR_FERNET_INVALID_TOKEN`, `ERR_FERNET_TOKEN_EXPIRED`, and for the
 *   chunked format `ERR_FERNET_CHUNK_SEQUENCE` / `ERR_FERNET_TRUNCATED`; file system errors as is.
 */
export async function decryptFile(
  src: string,
  dst: string,
  key: FernetKey | readonly FernetKey[],
  options: FileOptions = {},
): Promise<void> {
  const keys = keyList(key);
  if (keys.length === 0) throw invalidArgument('decryptFile needs at least one key');
  if (options.chunked) {
    await run(src, dst, [createChunkedDecryptStream(keys, { ttl: options.ttl })], options);
    return;
  }
  let use = keys[0]!;
  if (keys.length > 1) {
    const { index } = await scanTokenFile(src, keys.map(parseKey), options.signal);
    use = keys[index]!;
  }
  await run(src, dst, [createDecryptStream(use, { ttl: options.ttl })], options);
}

/**
 * Re-encrypts a backup made with any of `keys` under `keys[0]`, file to file, without the
 * plaintext touching the disk. A single token keeps its original timestamp (as Python's
 * `MultiFernet.rotate`); in the chunked format each chunk is rotated on its own. `dst` appears
 * only once every MAC has verified.
 */
export async function rotateFile(
  src: string,
  dst: string,
  keys: readonly FernetKey[],
  options: FileOptions = {},
): Promise<void> {
  if (keys.length === 0) throw invalidArgument('rotateFile needs at least one key');
  if (options.chunked) {
    const stages = [
      createChunkedDecryptStream(keys, { ttl: options.ttl }),
      createChunkedEncryptStream(keys[0]!, { chunkSize: options.chunkSize }),
    ];
    await run(src, dst, stages, options);
    return;
  }
  const { index, timestamp } = await scanTokenFile(src, keys.map(parseKey), options.signal);
  const stages = [
    createDecryptStream(keys[index]!, { ttl: options.ttl }),
    createEncryptStream(keys[0]!, { timestamp }),
  ];
  await run(src, dst, stages, options);
}
