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
import { retry } from '@org/resilience';
import type { ChunkReader } from '../chunk-reader.js';

/** S3's limit on the parts of one upload. */
const MAX_PARTS = 10_000;

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
  /** Runs one request with retries (every part is a Buffer, so it can be sent again). */
  withRetry: <T>(fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;
}

/** Where the parts come from; `release` hands a part's memory back once its upload settled. */
interface PartSource {
  /** The next part, empty at the end; waits while `queueSize + 1` parts are held. */
  next(inFlight: Set<Promise<void>>): Promise<Buffer>;
  release(part: Buffer): void;
  readonly ended: boolean;
  readonly size: number;
}

/** Slices of bytes already in memory: nothing is copied or allocated. */
function sliceSource(bytes: Buffer, a: MultipartArgs): PartSource {
  let at = 0;
  return {
    async next(inFlight) {
      while (inFlight.size > a.queueSize) await Promise.race(inFlight);
      const part = bytes.subarray(at, at + a.partSize);
      at += part.length;
      a.hash.update(part);
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
 * A stream copied into a fixed pool of `queueSize + 1` buffers of `partSize` bytes, reused
 * once their part settles: memory does not grow with the object, and no garbage is left for
 * the collector (each chunk is copied once, from the producer's buffer into a part).
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
    a.hash.update(buf);
    size += buf.length;
    return buf;
  };
  return {
    async next(inFlight) {
      while (free.length === 0 && allocated > a.queueSize) await Promise.race(inFlight);
      let buf = free.pop();
      if (buf === undefined) {
        allocated++;
        buf = Buffer.allocUnsafe(a.partSize);
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
      free.push(Buffer.from(part.buffer, part.byteOffset, a.partSize));
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
  const created = await a.withRetry((signal) =>
    a.client.send(
      new CreateMultipartUploadCommand({
        Bucket: a.bucket,
        Key: a.key,
        ...a.params,
        // A full-object CRC32 (combined by S3 from the parts' CRC32s) rather than the default
        // composite one: it stays valid for the object's bytes when a copy rewrites the object
        // (storeSha256Metadata), and the SDK can then verify whole downloads against it.
        ...(checksums
          ? { ChecksumAlgorithm: 'CRC32' as const, ChecksumType: 'FULL_OBJECT' as const }
          : {}),
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
      a.signal.throwIfAborted();
      const body = await source.next(inFlight);
      if (failure !== undefined) throw failure;
      if (body.length === 0) break;
      if (partNumber > MAX_PARTS) {
        throw new Error(
          `More than ${MAX_PARTS} parts: raise partSize (object over ${MAX_PARTS} × partSize)`,
        );
      }
      const task = a
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
        )
        .finally(() => {
          source.release(body);
          inFlight.delete(task);
        });
      inFlight.add(task);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    a.signal.throwIfAborted();
    parts.sort((x, y) => (x.PartNumber ?? 0) - (y.PartNumber ?? 0));
    const done = await a.withRetry((signal) =>
      a.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: a.bucket,
          Key: a.key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          ...(checksums ? { ChecksumType: 'FULL_OBJECT' as const } : {}),
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
