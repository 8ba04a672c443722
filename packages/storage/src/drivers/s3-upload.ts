import { createHash } from 'node:crypto';
import { PutObjectCommand, type PutObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { bodyBytes, bodyStream, sha256Hex } from '../body.js';
import { abortError } from '../errors.js';
import type { Body, PutResult } from '../types.js';
import { multipartUpload } from './s3-multipart.js';

interface UploadArgs {
  client: S3Client;
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
 * (`multipartUpload`), holding at most `partSize × (queueSize + 1)` bytes of parts; their SHA-256 is computed as they stream and returned, but cannot be stored (the metadata is
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

  const hash = createHash('sha256');
  const onAbort = () => source.destroy();
  a.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const r = await multipartUpload({
      client: a.client,
      bucket: a.bucket,
      key: a.key,
      params: a.params,
      head: head.chunks,
      rest: it,
      hash,
      partSize: a.partSize,
      queueSize: a.queueSize,
      signal: a.signal,
      withRetry: a.withRetry,
    });
    return {
      key: a.key,
      size: r.size,
      sha256: hash.digest('hex'),
      ...(r.etag ? { etag: r.etag } : {}),
    };
  } catch (err) {
    source.destroy();
    if (a.signal.aborted) throw abortError(a.signal, 'put');
    throw a.mapError(err);
  } finally {
    a.signal.removeEventListener('abort', onAbort);
  }
}
