import type { Hash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandInput,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { throwIfAborted } from '@org/core';
import { retry } from '@org/resilience/retry';
import type { ChunkReader } from '../chunk-reader.js';
import { StorageError, StorageErrorCode } from '../errors.js';

/** S3's limit on the parts of one upload. */
const MAX_PARTS = 10_000;

/** S3's largest part (5 GiB). */
const MAX_PART_BYTES = 5 * 1024 ** 3;

/** Parts per size step: the part size doubles every this many parts. */
const PARTS_PER_STEP = 1_000;

/**
 * The size of part `partNumber` (from 1): `partSize` for the first 1,000 parts, then doubling
 * every 1,000 parts (S3 takes parts of different sizes). A stream of unknown length can so reach
 * S3's 5 TiB object limit (5 MiB parts: 4.9 GiB in the first 1,000, 4.9 TiB in 10,000), while the
 * memory of uploads up to `1,000 × partSize` stays `partSize × (queueSize + 1)`.
 */
export function partSizeFor(
  partNumber: number,
  partSize: number,
  partsPerStep = PARTS_PER_STEP,
): number {
  return Math.min(MAX_PART_BYTES, partSize * 2 ** Math.floor((partNumber - 1) / partsPerStep));
}

/** Bytes already in memory (sent as slices), or a stream's chunks read so far and the rest. */
export type MultipartSource = { bytes: Buffer } | { head: Buffer[]; rest: ChunkReader };

interface MultipartArgs {
  client: S3Client;
  bucket: string;
  key: string;
  params: Omit<CreateMultipartUploadCommandInput, 'Bucket' | 'Key'>;
  source: MultipartSource;
  hash: Hash;
  partSize: number;
  queueSize: number;
  signal: AbortSignal;
  /**
   * Ask S3 for a full-object CRC32 instead of the composite one the SDK asks for: it stays valid
   * when a copy rewrites the object (storeSha256Metadata), and the SDK verifies whole downloads
   * against it (it skips composite checksums).
   */
  fullObjectChecksum: boolean;
  /** Parts per size step; only tests change it, to step up without uploading 5 GB. */
  partsPerStep?: number;
  /** Runs one request with retries (every part is a Buffer, so it can be sent again). */
  withRetry: <T>(fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;
}

/** Where the parts come from; `release` hands a part's memory back once its upload settled. */
interface PartSource {
  /** Part `partNumber`, empty at the end; waits while `queueSize + 1` parts are held. */
  next(inFlight: Set<Promise<void>>, partNumber: number): Promise<Buffer>;
  release(part: Buffer): void;
  readonly ended: boolean;
  readonly size: number;
}

/** Slices of bytes already in memory: nothing is copied or allocated. */
function sliceSource(bytes: Buffer, a: MultipartArgs): PartSource {
  let at = 0;
  return {
    async next(inFlight, partNumber) {
      while (inFlight.size > a.queueSize) await Promise.race(inFlight);
      const part = bytes.subarray(at, at + partSizeFor(partNumber, a.partSize, a.partsPerStep));
      at += part.length;
      return part;
    },
    release() {},
    get ended() {
      return at >= bytes.length;
    },
    get size() {
      return at;
    },
  };
}

/**
 * A stream copied into a fixed pool of `queueSize + 1` buffers of the current part size, reused
 * once their part settles: memory does not grow with the object (until the part size steps up),
 * and no garbage is left for the collector (each chunk is copied once, from the producer's
 * buffer into a part).
 */
function poolSource(head: Buffer[], rest: ChunkReader, a: MultipartArgs): PartSource {
  const free: Buffer[] = [];
  let allocated = 0;
  let leftover: Buffer | undefined;
  let ended = false;
  let size = 0;
  const nextChunk = async (): Promise<Buffer | undefined> => {
    if (leftover !== undefined) {
      const c = leftover;
      leftover = undefined;
      return c;
    }
    const buf = head.shift() ?? (await rest.next());
    if (buf === undefined) return undefined;
    size += buf.length;
    return buf;
  };
  return {
    async next(inFlight, partNumber) {
      const partSize = partSizeFor(partNumber, a.partSize, a.partsPerStep);
      while (free.length === 0 && allocated > a.queueSize) await Promise.race(inFlight);
      let buf = free.pop();
      if (buf !== undefined && buf.length < partSize) {
        // The part size stepped up: this buffer is dropped and a larger one takes its place.
        allocated--;
        buf = undefined;
      }
      if (buf === undefined) {
        allocated++;
        buf = Buffer.allocUnsafe(partSize);
      }
      let at = 0;
      while (at < buf.length) {
        const c = await nextChunk();
        if (c === undefined) {
          ended = true;
          break;
        }
        const n = Math.min(c.length, buf.length - at);
        c.copy(buf, at, 0, n);
        at += n;
        if (n < c.length) leftover = c.subarray(n);
      }
      if (at === 0) free.push(buf);
      return buf.subarray(0, at);
    },
    release(part) {
      // The whole pooled buffer (a part's own ArrayBuffer), not just the bytes the part used.
      free.push(
        Buffer.from(part.buffer, part.byteOffset, part.buffer.byteLength - part.byteOffset),
      );
    },
    get ended() {
      return ended;
    },
    get size() {
      return size;
    },
  };
}

/**
 * A multipart upload in bounded memory (see `poolSource`). Each part is retried on its own. On
 * any failure or abort the upload is aborted on S3 (no object appears, no parts are left to
 * pay for).
 */
export async function multipartUpload(a: MultipartArgs): Promise<{ size: number; etag?: string }> {
  const checksums = (await a.client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
  const fullObject = checksums && a.fullObjectChecksum;
  const created = await a.withRetry((signal) =>
    a.client.send(
      new CreateMultipartUploadCommand({
        Bucket: a.bucket,
        Key: a.key,
        ...a.params,
        // Composite otherwise, as lib-storage's Upload asks: a full-object CRC32 is worth its
        // cost only where the copy needs it (moto took 3.8 s to complete 512 MiB with it, 1.5 s
        // with composite ones; S3 derives either from the parts' CRC32s).
        ...(checksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
        ...(fullObject ? { ChecksumType: 'FULL_OBJECT' as const } : {}),
      }),
      { abortSignal: signal },
    ),
  );
  const uploadId = created.UploadId as string;
  const source =
    'bytes' in a.source
      ? sliceSource(a.source.bytes, a)
      : poolSource(a.source.head, a.source.rest, a);
  const parts: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  try {
    for (let partNumber = 1; !source.ended; partNumber++) {
      if (failure !== undefined) throw failure;
      throwIfAborted(a.signal, 'storage put');
      const body = await source.next(inFlight, partNumber);
      if (failure !== undefined) throw failure;
      if (body.length === 0) break;
      if (partNumber > MAX_PARTS) {
        throw new StorageError(
          StorageErrorCode.TooLarge,
          `More than ${MAX_PARTS} parts: the object is larger than S3 takes, even with parts growing to ${partSizeFor(MAX_PARTS, a.partSize, a.partsPerStep)} bytes; raise \`partSize\``,
          { key: a.key },
        );
      }
      // The part is hashed (into the whole object's SHA-256) once its request is on its way,
      // not before: with few parts in flight, the time between one finishing and the next
      // starting is what a large upload waits on, and the SDK hashes the part too before sending.
      const hashed = new Promise<void>((resolve) =>
        setImmediate(() => {
          a.hash.update(body);
          resolve();
        }),
      );
      const upload = a
        .withRetry((signal) =>
          a.client.send(
            new UploadPartCommand({
              Bucket: a.bucket,
              Key: a.key,
              UploadId: uploadId,
              PartNumber: partNumber,
              Body: body,
              ContentLength: body.length,
            }),
            { abortSignal: signal },
          ),
        )
        .then(
          (res) => {
            parts.push({
              PartNumber: partNumber,
              ETag: res.ETag,
              ...(res.ChecksumCRC32 ? { ChecksumCRC32: res.ChecksumCRC32 } : {}),
            });
          },
          (err: unknown) => {
            failure ??= err;
          },
        );
      // Parts are hashed in order: setImmediate callbacks run in the order they were queued.
      const task = Promise.all([hashed, upload]).then(() => {
        source.release(body);
        inFlight.delete(task);
      });
      inFlight.add(task);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    throwIfAborted(a.signal, 'storage put');
    parts.sort((x, y) => (x.PartNumber ?? 0) - (y.PartNumber ?? 0));
    const done = await a.withRetry((signal) =>
      a.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: a.bucket,
          Key: a.key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          ...(fullObject ? { ChecksumType: 'FULL_OBJECT' as const } : {}),
        }),
        { abortSignal: signal },
      ),
    );
    return { size: source.size, ...(done.ETag ? { etag: done.ETag } : {}) };
  } catch (err) {
    await Promise.allSettled(inFlight);
    // Not under the caller's signal: the abort must go out even when the caller gave up, and it
    // is retried on its own, since a pending upload left behind keeps its parts (and their cost).
    await retry(
      ({ signal }) =>
        a.client.send(
          new AbortMultipartUploadCommand({ Bucket: a.bucket, Key: a.key, UploadId: uploadId }),
          { abortSignal: signal },
        ),
      { attempts: 4, minDelay: 100, maxDelay: 1_000, timeout: 10_000 },
    ).catch(() => {});
    throw err;
  }
}
