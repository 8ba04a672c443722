import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type HeadObjectCommandOutput,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';

interface CopyArgs {
  client: S3Client;
  bucket: string;
  to: string;
  /** `bucket/key`, URL-encoded, as `CopySource` wants it. */
  source: string;
  head: HeadObjectCommandOutput;
  /** Bytes per copied part. */
  partSize: number;
  withRetry: <T>(fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;
}

/**
 * Copies an object larger than `CopyObject` allows (5 GiB) with `UploadPartCopy`, keeping its
 * content type, cache control and metadata. The bytes never leave S3; a failure aborts the
 * upload.
 */
export async function multipartCopy(a: CopyArgs): Promise<void> {
  const size = a.head.ContentLength ?? 0;
  // S3 allows 10,000 parts of at most 5 GiB each.
  const partSize = Math.max(a.partSize, Math.ceil(size / 10_000));
  const created = await a.withRetry((signal) =>
    a.client.send(
      new CreateMultipartUploadCommand({
        Bucket: a.bucket,
        Key: a.to,
        ...(a.head.ContentType ? { ContentType: a.head.ContentType } : {}),
        ...(a.head.CacheControl ? { CacheControl: a.head.CacheControl } : {}),
        Metadata: a.head.Metadata ?? {},
      }),
      { abortSignal: signal },
    ),
  );
  const uploadId = created.UploadId as string;
  try {
    const parts: { PartNumber: number; ETag: string | undefined }[] = [];
    for (let start = 0, n = 1; start < size; start += partSize, n++) {
      const end = Math.min(start + partSize, size) - 1;
      const res = await a.withRetry((signal) =>
        a.client.send(
          new UploadPartCopyCommand({
            Bucket: a.bucket,
            Key: a.to,
            UploadId: uploadId,
            PartNumber: n,
            CopySource: a.source,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
          { abortSignal: signal },
        ),
      );
      parts.push({ PartNumber: n, ETag: res.CopyPartResult?.ETag });
    }
    await a.withRetry((signal) =>
      a.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: a.bucket,
          Key: a.to,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
        { abortSignal: signal },
      ),
    );
  } catch (err) {
    await a.client
      .send(new AbortMultipartUploadCommand({ Bucket: a.bucket, Key: a.to, UploadId: uploadId }))
      .catch(() => {});
    throw err;
  }
}
