import { createHash, type Hash } from 'node:crypto';
import { PassThrough, Transform, Writable } from 'node:stream';
import * as zlib from 'node:zlib';
import { BackupError, BackupErrorCode } from './errors.js';
import type { Compression } from './manifest.js';

type ZlibWithZstd = typeof zlib & {
  createZstdCompress?: (options?: object) => Transform;
  createZstdDecompress?: () => Transform;
  constants: typeof zlib.constants & { ZSTD_c_compressionLevel?: number };
};
const z = zlib as ZlibWithZstd;

/** Whether this Node.js has zstd in `node:zlib` (22.15 and later). */
export const zstdAvailable = (): boolean => typeof z.createZstdCompress === 'function';

function noZstd(): BackupError {
  return new BackupError(
    BackupErrorCode.Unsupported,
    `zstd needs Node.js 22.15 or later (this is ${process.version}): use compression 'gzip', or a newer Node.js`,
  );
}

/** The compressing stage for `compression` at `level`. */
export function compressor(compression: Compression, level: number): Transform {
  if (compression === 'gzip') return zlib.createGzip({ level });
  if (compression === 'zstd') {
    if (!zstdAvailable()) throw noZstd();
    const key = z.constants.ZSTD_c_compressionLevel!;
    return z.createZstdCompress!({ params: { [key]: level } });
  }
  return new PassThrough();
}

/** The decompressing stage for `compression`. */
export function decompressor(compression: Compression): Transform {
  if (compression === 'gzip') return zlib.createGunzip();
  if (compression === 'zstd') {
    if (!zstdAvailable()) throw noZstd();
    return z.createZstdDecompress!();
  }
  return new PassThrough();
}

/** A pass-through that hashes and counts what flows, and reports progress. */
export class Meter extends Transform {
  readonly #hash: Hash = createHash('sha256');
  bytes = 0;
  #digest: string | undefined;
  constructor(private readonly onBytes?: (bytes: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(this.bytes);
    this.push(chunk);
    cb();
  }
  /** The hex SHA-256 of everything that passed (once the stream has ended). */
  digest(): string {
    this.#digest ??= this.#hash.digest('hex');
    return this.#digest;
  }
}

/**
 * Releases what flows through it except the last `holdBytes`, which are released only once
 * `check()` (given the SHA-256 and size of the whole) passes at the end. A restore thus never
 * hands a consumer (pg_restore) the end of a dump whose bytes do not match the manifest, and a
 * consumer that commits at the end of its input never commits a wrong dump.
 */
export class HoldBack extends Transform {
  readonly #hash: Hash = createHash('sha256');
  #held: Buffer[] = [];
  #heldBytes = 0;
  bytes = 0;
  constructor(
    private readonly holdBytes: number,
    private readonly check: (sha256: string, bytes: number) => void,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    while (this.#held.length > 1 && this.#heldBytes - this.#held[0]!.length >= this.holdBytes) {
      const first = this.#held.shift()!;
      this.#heldBytes -= first.length;
      this.push(first);
    }
    cb();
  }
  override _flush(cb: (err?: Error | null) => void): void {
    try {
      this.check(this.#hash.digest('hex'), this.bytes);
    } catch (err) {
      cb(err as Error);
      return;
    }
    for (const b of this.#held) this.push(b);
    this.#held = [];
    cb();
  }
}

/** One branch of a {@link FanOut}: the stream a target's upload reads. */
export interface Branch {
  readonly name: string;
  readonly stream: PassThrough;
  failed: boolean;
}

/**
 * A Writable that copies each chunk to every live branch and calls back once every live branch
 * has room: the slowest target paces the whole pipeline, so memory stays bounded. A branch
 * whose upload fails is dropped with `drop(name)`, and the others continue; when none is left
 * the fan-out errors. `beforeEnd` runs at the end before any branch is ended, so a branch (an
 * upload) is completed only once the dump is known to have succeeded.
 */
export class FanOut extends Writable {
  readonly branches: Branch[];
  #waiting: (() => void) | undefined;
  #ended = false;
  constructor(
    names: readonly string[],
    private readonly beforeEnd: () => Promise<void>,
  ) {
    super({ highWaterMark: 64 * 1024 });
    this.branches = names.map((name) => {
      const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
      // A branch's failure is reported by its upload's rejection; the error event is not the channel.
      stream.on('error', () => {});
      return { name, failed: false, stream };
    });
  }
  #live(): Branch[] {
    return this.branches.filter((b) => !b.failed);
  }
  /** Drops a branch whose consumer failed; the write waiting on it goes on. */
  drop(name: string, err: Error): void {
    const b = this.branches.find((x) => x.name === name);
    if (!b || b.failed) return;
    b.failed = true;
    b.stream.destroy(err);
    const wake = this.#waiting;
    this.#waiting = undefined;
    wake?.();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const live = this.#live();
    if (live.length === 0) {
      cb(new BackupError(BackupErrorCode.UploadFailed, 'Every target failed'));
      return;
    }
    const full = live.filter((b) => !b.stream.write(chunk));
    this.#awaitRoom(full, cb);
  }
  #awaitRoom(full: Branch[], cb: (err?: Error | null) => void): void {
    const pending = full.filter((b) => !b.failed && b.stream.writableNeedDrain);
    if (pending.length === 0) {
      if (this.#live().length === 0) {
        cb(new BackupError(BackupErrorCode.UploadFailed, 'Every target failed'));
      } else cb();
      return;
    }
    let done = false;
    const again = () => {
      if (done) return;
      done = true;
      for (const b of pending) b.stream.off('drain', again);
      this.#waiting = undefined;
      this.#awaitRoom(pending, cb);
    };
    for (const b of pending) b.stream.once('drain', again);
    this.#waiting = again;
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.beforeEnd().then(
      () => {
        this.#ended = true;
        for (const b of this.#live()) b.stream.end();
        cb();
      },
      (err: Error) => cb(err),
    );
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // A failed pipeline fails every branch, so no upload completes.
    if (this.#ended && err === null) {
      cb(null);
      return;
    }
    const reason = err ?? new BackupError(BackupErrorCode.DumpFailed, 'The backup was cancelled');
    for (const b of this.#live()) b.stream.destroy(reason);
    cb(err);
  }
}
