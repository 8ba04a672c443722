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

/** S3's limit on the parts of one upload. */
const MAX_PARTS = 10_000;

interface MultipartArgs {
  client: S3Client;
  bucket: string;
  key: string;
  params: Omit<CreateMultipartUploadCommandInput, 'Bucket' | 'Key'>;
  /** Chunks read so far (handed over, then the iterator for the rest). */
  head: Buffer[];
  rest: AsyncIterator<Buffer>;
  hash: Hash;
  partSize: number;
  queueSize: number;
  signal: AbortSignal;
  /** Runs one request with retries (every part is a Buffer, so it can be sent again). */
  withRetry: <T>(fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;
}

/**
 * A multipart upload in bounded memory: parts are copied into a fixed pool of
 * `queueSize + 1` buffers of `partSize` bytes, reused once their upload settles, so memory
 * does not grow with the object and nothing waits for the garbage collector. Each part is
 * retried on its own. On any failure or abort the upload is aborted on S3 (no object appears,
 * no parts are left to pay for).
 */
export async function multipartUpload(a: MultipartArgs): Promise<{ size: number; etag?: string }> {
  const checksums = (await a.client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
  const created = await a.withRetry((signal) =>
    a.client.send(
      new CreateMultipartUploadCommand({
        Bucket: a.bucket,
        Key: a.key,
        ...a.params,
        ...(checksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
      }),
      { abortSignal: signal },
    ),
  );
  const uploadId = created.UploadId as string;
  const free: Buffer[] = [];
  let allocated = 0;
  const parts: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let leftover: Buffer | undefined;
  let ended = false;
  let size = 0;

  const nextChunk = async (): Promise<Buffer | undefined> => {
    if (leftover !== undefined) {
      const c = leftover;
      leftover = undefined;
      return c;
    }
    const h = a.head.shift();
    const c = h ?? (await a.rest.next().then((r) => (r.done ? undefined : r.value)));
    if (c === undefined) return undefined;
    const buf = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    a.hash.update(buf);
    size += buf.length;
    return buf;
  };
  const fill = async (buf: Buffer): Promise<number> => {
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
    return at;
  };

  try {
    for (let partNumber = 1; !ended; partNumber++) {
      if (failure !== undefined) throw failure;
      a.signal.throwIfAborted();
      while (free.length === 0 && allocated > a.queueSize) await Promise.race(inFlight);
      if (failure !== undefined) throw failure;
      let buf = free.pop();
      if (buf === undefined) {
        allocated++;
        buf = Buffer.allocUnsafe(a.partSize);
      }
      const part = buf;
      const n = await fill(buf);
      if (n === 0) {
        free.push(buf);
        break;
      }
      if (partNumber > MAX_PARTS) {
        throw new Error(
          `More than ${MAX_PARTS} parts: raise partSize (object over ${MAX_PARTS} × partSize)`,
        );
      }
      const body = part.subarray(0, n);
      const task = a
        .withRetry((signal) =>
          a.client.send(
            new UploadPartCommand({
              Bucket: a.bucket,
              Key: a.key,
              UploadId: uploadId,
              PartNumber: partNumber,
              Body: body,
              ContentLength: n,
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
          free.push(part);
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
        }),
        { abortSignal: signal },
      ),
    );
    return { size, ...(done.ETag ? { etag: done.ETag } : {}) };
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
