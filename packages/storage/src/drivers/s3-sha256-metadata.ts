import { CopyObjectCommand, type PutObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';

interface StoreArgs {
  client: S3Client;
  bucket: string;
  key: string;
  /** What the upload was created with: sent again, since REPLACE drops what it is not given. */
  params: Pick<PutObjectCommandInput, 'ContentType' | 'CacheControl' | 'Metadata'>;
  shaMetaKey: string;
  sha256: string;
  /** ETag of the completed upload: the copy applies only to that object. */
  etag: string | undefined;
  withRetry: <T>(fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;
}

/**
 * Adds the SHA-256 of a completed multipart upload to the object's metadata. S3 metadata
 * cannot change in place and the hash is known only after the last part, so this is a
 * server-side `CopyObject` of the object onto itself with `MetadataDirective: REPLACE` (one
 * request, no bytes through the process; S3 allows it up to 5 GiB). REPLACE keeps only what the
 * request carries, hence the content type, cache control and user metadata sent again.
 * `CopySourceIfMatch` on the upload's ETag: if another writer replaced the object meanwhile,
 * S3 answers 412 and that object is left as it is. Returns the new ETag.
 */
export async function storeSha256Metadata(a: StoreArgs): Promise<{ etag?: string }> {
  const source = `${a.bucket}/${a.key.split('/').map(encodeURIComponent).join('/')}`;
  const res = await a.withRetry((signal) =>
    a.client.send(
      new CopyObjectCommand({
        Bucket: a.bucket,
        Key: a.key,
        CopySource: source,
        ...(a.etag === undefined ? {} : { CopySourceIfMatch: a.etag }),
        MetadataDirective: 'REPLACE',
        ...a.params,
        Metadata: { ...a.params.Metadata, [a.shaMetaKey]: a.sha256 },
      }),
      { abortSignal: signal },
    ),
  );
  const etag = res.CopyObjectResult?.ETag;
  return etag === undefined ? {} : { etag };
}
