import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { bodyBytes, bodyStream, HashingStream, sha256Hex } from '../body.js';
import { abortError } from '../errors.js';
import type { Body, PutResult } from '../types.js';

interface UploadArgs {
  client: S3Client;
  getUploadClient: () => S3Client;
  bucket: string;
  key: string;
  body: Body;
  signal: AbortSignal;
  partSize: number;
  queueSize: number;
  params: Pick<PutObjectCommandInput, 'ContentType' | 'CacheControl' | 'Metadata'>;
  shaMetaKey: string;
  withRetry: <T>(fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;
  mapError: (err: unknown) => Error;
}

/** Reads up to `limit` bytes; `done` tells whether the stream ended within them. */
async function readHead(
  it: AsyncIterator<Buffer>,
  limit: number,
): Promise<{ chunks: Buffer[]; size: number; done: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  while (size <= limit) {
    const next = await it.next();
    if (next.done) return { chunks, size, done: true };
    const buf = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    chunks.push(buf);
    size += buf.length;
  }
  return { chunks, size, done: false };
}

/**
 * Puts an object: bodies that fit in one part go up in one `PutObject`, retried (the bytes are
 * in memory), with their SHA-256 kept in the metadata. Longer bodies and streams go up in parts
 * through lib-storage's `Upload`, holding at most about `partSize × (queueSize + 1)` bytes;
 * their SHA-256 is computed as they stream and returned, but cannot be stored (the metadata is
 * sent before the first byte). An aborted or failed multipart upload is aborted on S3, so no
 * object appears.
 */
export async function uploadObject(a: UploadArgs): Promise<PutResult> {
  const single = async (bytes: Buffer): Promise<PutResult> => {
    const sha256 = sha256Hex(bytes);
    const res = await a.withRetry((signal) =>
      a.client.send(
        new PutObjectCommand({
          Bucket: a.bucket,
          Key: a.key,
          Body: bytes,
          ContentLength: bytes.length,
          ...a.params,
          Metadata: { ...a.params.Metadata, [a.shaMetaKey]: sha256 },
        }),
        { abortSignal: signal },
      ),
    );
    return { key: a.key, size: bytes.length, sha256, ...(res.ETag ? { etag: res.ETag } : {}) };
  };

  const bytes = bodyBytes(a.body);
  if (bytes !== undefined && bytes.length <= a.partSize) return single(bytes);

  const source = bodyStream(a.body);
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head: Awaited<ReturnType<typeof readHead>>;
  try {
    head = await readHead(it, a.partSize);
  } catch (err) {
    if (a.signal.aborted) throw abortError(a.signal, 'put');
    throw a.mapError(err);
  }
  if (head.done) return single(Buffer.concat(head.chunks, head.size));

  async function* rest(): AsyncGenerator<Buffer> {
    // Hand the buffered head over chunk by chunk, so it is not held for the whole upload.
    for (let c = head.chunks.shift(); c !== undefined; c = head.chunks.shift()) yield c;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const hasher = new HashingStream();
  const feeding = pipeline(Readable.from(rest(), { objectMode: false }), hasher).catch(
    (err: unknown) => err,
  );
  const controller = new AbortController();
  const upload = new Upload({
    client: a.getUploadClient(),
    params: { Bucket: a.bucket, Key: a.key, Body: hasher, ...a.params },
    partSize: a.partSize,
    queueSize: a.queueSize,
    leavePartsOnError: false,
    abortController: controller,
  });
  const onAbort = () => {
    controller.abort();
    source.destroy();
  };
  a.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await upload.done();
    const feedError = await feeding;
    if (feedError !== undefined) throw feedError;
    return {
      key: a.key,
      size: hasher.bytes,
      sha256: hasher.digest(),
      ...(res.ETag ? { etag: res.ETag } : {}),
    };
  } catch (err) {
    source.destroy();
    hasher.destroy();
    // lib-storage aborts the upload on S3 only once its reader notices; make sure it is gone.
    const uploadId = (upload as unknown as { uploadId?: string }).uploadId;
    if (uploadId !== undefined) {
      await a
        .getUploadClient()
        .send(new AbortMultipartUploadCommand({ Bucket: a.bucket, Key: a.key, UploadId: uploadId }))
        .catch(() => {});
    }
    if (a.signal.aborted) throw abortError(a.signal, 'put');
    throw a.mapError(err);
  } finally {
    a.signal.removeEventListener('abort', onAbort);
  }
}
