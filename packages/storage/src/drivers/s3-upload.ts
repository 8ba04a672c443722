import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { PutObjectCommand, type PutObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { abortReason } from '@org/core';
import { bodyBytes, bodyStream, sha256Hex } from '../body.js';
import { bodyFailed, trackedReader } from '../body-errors.js';
import { type ChunkReader, chunkReader } from '../chunk-reader.js';
import type { Body, PutResult } from '../types.js';
import { type MultipartSource, multipartUpload } from './s3-multipart.js';
import { storeSha256Metadata } from './s3-sha256-metadata.js';

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
  /** Whether a multipart object gets its SHA-256 into its metadata afterwards (by a copy). */
  storeMultipartSha256: boolean;
  /** Largest object one `CopyObject` may copy (bytes). */
  copyLimit: number;
  withRetry: <T>(fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;
  mapError: (err: unknown) => Error;
}

/**
 * SigV4 signs the SHA-256 of the payload, and the signer takes it from `x-amz-content-sha256`
 * when the request already carries one: `put` has just hashed the same bytes for its result, so
 * the SDK does not hash them a second time (a pass over the body saved on every single-part put).
 */
function presetPayloadHash(command: PutObjectCommand, sha256: string): void {
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> } | undefined;
      if (request?.headers) request.headers['x-amz-content-sha256'] = sha256;
      return next(args);
    },
    { step: 'build', name: 'orgStoragePresetPayloadHash' },
  );
}

/** Reads up to `limit` bytes; `done` tells whether the stream ended within them. */
async function readHead(
  reader: ChunkReader,
  limit: number,
): Promise<{ chunks: Buffer[]; size: number; done: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  while (size <= limit) {
    const buf = await reader.next();
    if (buf === undefined) return { chunks, size, done: true };
    chunks.push(buf);
    size += buf.length;
  }
  return { chunks, size, done: false };
}

/**
 * Puts an object: bodies that fit in one part go up in one `PutObject`, retried (the bytes are
 * in memory), with their SHA-256 kept in the metadata. Longer bodies and streams go up in parts
 * (`multipartUpload`), holding at most `partSize × (queueSize + 1)` bytes of parts; their
 * SHA-256 is computed as they stream, and added to the metadata once the upload is complete
 * (`storeSha256Metadata`). An aborted or failed multipart upload is aborted on S3, so no object
 * appears; a failure of the metadata step leaves the object stored and is reported as
 * `sha256Stored: false`, not as a failed put.
 */
export async function uploadObject(a: UploadArgs): Promise<PutResult> {
  const single = async (bytes: Buffer): Promise<PutResult> => {
    const sha256 = sha256Hex(bytes);
    const res = await a.withRetry((signal) => {
      const command = new PutObjectCommand({
        Bucket: a.bucket,
        Key: a.key,
        Body: bytes,
        ContentLength: bytes.length,
        ...a.params,
        Metadata: { ...a.params.Metadata, [a.shaMetaKey]: sha256 },
      });
      presetPayloadHash(command, sha256);
      return a.client.send(command, { abortSignal: signal });
    });
    return { key: a.key, size: bytes.length, sha256, ...(res.ETag ? { etag: res.ETag } : {}) };
  };

  const multipart = async (
    source: MultipartSource,
    stream: Readable | undefined,
    reader?: ReturnType<typeof trackedReader>,
  ): Promise<PutResult> => {
    const hash = createHash('sha256');
    const onAbort = () => stream?.destroy();
    a.signal.addEventListener('abort', onAbort, { once: true });
    let r: { size: number; etag?: string };
    try {
      r = await multipartUpload({
        client: a.client,
        bucket: a.bucket,
        key: a.key,
        params: a.params,
        source,
        hash,
        partSize: a.partSize,
        queueSize: a.queueSize,
        signal: a.signal,
        fullObjectChecksum: a.storeMultipartSha256,
        withRetry: a.withRetry,
      });
    } catch (err) {
      stream?.destroy();
      if (a.signal.aborted) throw abortReason(a.signal, 'storage put');
      // The body failed (the upload was aborted on S3 above): not S3's fault.
      if (reader?.failure !== undefined && reader.failure.error === err) {
        throw bodyFailed(err, a.key);
      }
      throw a.mapError(err);
    } finally {
      a.signal.removeEventListener('abort', onAbort);
    }
    const sha256 = hash.digest('hex');
    const result: PutResult = { key: a.key, size: r.size, sha256 };
    if (r.etag) result.etag = r.etag;
    if (!a.storeMultipartSha256 || r.size > a.copyLimit) return { ...result, sha256Stored: false };
    try {
      const stored = await storeSha256Metadata({
        client: a.client,
        bucket: a.bucket,
        key: a.key,
        params: a.params,
        shaMetaKey: a.shaMetaKey,
        sha256,
        etag: r.etag,
        withRetry: a.withRetry,
      });
      return { ...result, ...stored };
    } catch {
      // The object is complete and readable: the put succeeded, only `head().sha256` is missing.
      return { ...result, sha256Stored: false };
    }
  };

  const bytes = bodyBytes(a.body);
  if (bytes !== undefined) {
    return bytes.length <= a.partSize ? single(bytes) : multipart({ bytes }, undefined);
  }
  const stream = bodyStream(a.body);
  // The reader fails only with the body's own failure: told apart from S3's by identity below.
  const reader = trackedReader(chunkReader(stream));
  let head: Awaited<ReturnType<typeof readHead>>;
  try {
    head = await readHead(reader, a.partSize);
  } catch (err) {
    if (a.signal.aborted) throw abortReason(a.signal, 'storage put');
    throw bodyFailed(err, a.key);
  }
  if (head.done) return single(Buffer.concat(head.chunks, head.size));
  return multipart({ head: head.chunks, rest: reader }, stream, reader);
}
