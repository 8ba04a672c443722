import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { abortReason } from '@org/core';
import { retry as resilienceRetry } from '@org/resilience/retry';
import { validateMetadata } from '../body.js';
import { check, invalidOption, StorageError, StorageErrorCode } from '../errors.js';
import { expiresInMs } from '../expires.js';
import { withMappedErrors } from '../stream-errors.js';
import { recordRetry } from '../telemetry.js';
import type { StorageDriver } from '../types.js';
import { multipartCopy } from './s3-copy.js';
import { isTransientS3Error, toStorageError } from './s3-errors.js';
import type { RetryFn, RetryInfo, S3DriverOptions } from './s3-options.js';
import { uploadObject } from './s3-upload.js';

export type { RetryFn, RetryInfo, S3DriverOptions, S3RetryOptions } from './s3-options.js';

const MiB = 1024 * 1024;
/** Metadata key under which the driver keeps the object's SHA-256. */
export const SHA256_META = 'org-sha256';

/** The S3 / R2 driver, with the client it uses. */
export interface S3Driver extends StorageDriver {
  readonly bucket: string;
  readonly client: S3Client;
}

// The retry's own "gave up" error (`ERR_RESILIENCE_RETRY_EXHAUSTED` or `_DEADLINE`) carries the
// last attempt's error as `cause`: that is the one to map.
function unwrapRetry(err: unknown): unknown {
  let e = err;
  for (let i = 0; i < 3; i++) {
    const code = (e as { code?: unknown } | null)?.code;
    if (
      typeof code === 'string' &&
      (code.startsWith('ERR_RESILIENCE_RETRY_') || code.startsWith('ERR_RETRY_')) &&
      (e as Error).cause !== undefined
    ) {
      e = (e as Error).cause;
    } else break;
  }
  return e;
}

interface Timeouts {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

function clientConfig(o: S3DriverOptions, r2: boolean, t: Timeouts): S3ClientConfig {
  const config: S3ClientConfig = {
    region: o.region ?? (r2 ? 'auto' : 'us-east-1'),
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: t.connectTimeoutMs,
      socketTimeout: t.idleTimeoutMs,
    },
  };
  if (o.endpoint !== undefined) config.endpoint = o.endpoint;
  if (o.credentials !== undefined) {
    const { accessKeyId, secretAccessKey, sessionToken } = o.credentials;
    config.credentials = {
      accessKeyId,
      secretAccessKey,
      ...(sessionToken === undefined ? {} : { sessionToken }),
    };
  }
  if (o.forcePathStyle !== undefined) config.forcePathStyle = o.forcePathStyle;
  if (r2) {
    // AWS SDK 3.729+ sends CRC32 checksums R2 rejects (aws-sdk-js-v3 issue 6810).
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  return config;
}

/** Creates the S3 / R2 driver. Pass `client` to reuse an `S3Client` you hold. */
export function createS3Driver(options: S3DriverOptions): S3Driver {
  check.object(options, 's3');
  const bucket = check.string(options.bucket, 'bucket');
  if (bucket === undefined) throw invalidOption('S3 storage needs `bucket` (AWS_S3_BUCKET)');
  const r2 = check.oneOf(options.profile, 'profile', ['aws', 'r2'], 'aws') === 'r2';
  const partSize = check.integer(options.partSize, 'partSize', 5 * MiB);
  if (partSize < 5 * MiB) {
    throw invalidOption(
      `\`partSize\` must be at least 5 MiB (S3's smallest part), in bytes; got ${partSize}`,
    );
  }
  // Parts in flight besides the one filling.
  const queueSize = check.integer(options.queueSize, 'queueSize', 1, { min: 0 });
  const copyLimit = check.integer(options.copyLimit, 'copyLimit', 5 * 1024 * MiB, { min: 0 });
  const copyPartSize = Math.max(5 * MiB, Math.min(copyLimit, 1024 * MiB));
  const timeouts: Timeouts = {
    connectTimeoutMs: check.duration(options.connectTimeout, 'connectTimeout', '5s', { min: 1 }),
    idleTimeoutMs: check.duration(options.idleTimeout, 'idleTimeout', '30s', { min: 1 }),
  };
  const retryOptions = check.object(options.retry, 'retry');
  const attempts = check.integer(retryOptions.attempts, 'retry.attempts', 3, { min: 1 });
  const minDelayMs = check.duration(retryOptions.minDelay, 'retry.minDelay', '100ms');
  const maxDelayMs = check.duration(retryOptions.maxDelay, 'retry.maxDelay', '2s');
  const onRetry = check.func<(info: RetryInfo) => void>(retryOptions.onRetry, 'retry.onRetry');
  const retryFn: RetryFn = check.func<RetryFn>(options.retryFn, 'retryFn') ?? resilienceRetry;
  const endpoint = check.string(options.endpoint, 'endpoint');
  let origin: string | undefined;
  if (endpoint !== undefined) {
    try {
      origin = new URL(endpoint).origin;
    } catch (cause) {
      throw invalidOption(
        '`endpoint` must be an absolute URL such as https://<account>.r2.cloudflarestorage.com (S3_ENDPOINT)',
        cause,
      );
    }
  }
  const own = options.client === undefined;
  // The client does not retry by itself: @org/resilience does, around every request that can
  // be sent again (all of them: bodies are Buffers, and streams go up as Buffer parts).
  const client = options.client ?? new S3Client(clientConfig(options, r2, timeouts));
  let presignClient: S3Client | undefined;
  // Presigned PUTs must not carry an SDK checksum of an empty body (browsers cannot match it).
  const getPresignClient = () => {
    presignClient ??= own
      ? new S3Client({
          ...clientConfig(options, r2, timeouts),
          requestChecksumCalculation: 'WHEN_REQUIRED',
        })
      : client;
    return presignClient;
  };
  const where = origin === undefined ? `s3://${bucket}` : `${origin}/${bucket}`;
  const withRetry = <T>(
    key: string | undefined,
    signal: AbortSignal,
    fn: (signal: AbortSignal) => Promise<T>,
  ) =>
    retryFn((ctx) => fn(ctx.signal), {
      attempts,
      minDelay: minDelayMs,
      maxDelay: maxDelayMs,
      retryOn: (err) => !signal.aborted && isTransientS3Error(err),
      signal,
      onRetry: (info) => {
        recordRetry(r2 ? 'r2' : 's3', info.error);
        onRetry?.({
          attempt: info.attempt,
          delayMs: info.delayMs ?? info.delay ?? 0,
          error: info.error,
        });
      },
    }).catch((err: unknown) => {
      throw toStorageError(unwrapRetry(err), key, where);
    });

  let closed = false;
  const driver: S3Driver = {
    name: r2 ? 'r2' : 's3',
    bucket,
    client,

    async put(key, body, opts) {
      const metadata = validateMetadata(opts.metadata);
      const signal = opts.signal ?? new AbortController().signal;
      return uploadObject({
        client,
        bucket,
        key,
        body,
        signal,
        partSize,
        queueSize,
        params: {
          ContentType: opts.contentType ?? 'application/octet-stream',
          ...(opts.cacheControl === undefined ? {} : { CacheControl: opts.cacheControl }),
          Metadata: metadata,
        },
        shaMetaKey: SHA256_META,
        storeMultipartSha256: options.storeMultipartSha256 ?? false,
        copyLimit: Math.min(copyLimit, 5 * 1024 * MiB),
        withRetry: (fn) => withRetry(key, signal, fn),
        mapError: (err) => toStorageError(unwrapRetry(err), key, where),
      });
    },

    async getStream(key, opts) {
      const signal = opts.signal ?? new AbortController().signal;
      const range = opts.range;
      if (
        range !== undefined &&
        !(
          Number.isSafeInteger(range.start) &&
          range.start >= 0 &&
          (range.end ?? range.start) >= range.start
        )
      ) {
        throw new StorageError(
          StorageErrorCode.InvalidRange,
          `Invalid range ${range.start}-${range.end ?? ''} for "${key}"`,
          { key },
        );
      }
      const res = await withRetry(key, signal, (s) =>
        client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(range ? { Range: `bytes=${range.start}-${range.end ?? ''}` } : {}),
          }),
          { abortSignal: s },
        ),
      );
      // Mid-transfer failures (a reset connection, a socket idle past `idleTimeout`) surface as
      // StorageErrors like every other failure, and an abort as core's AbortedError.
      return withMappedErrors(res.Body as Readable, (err) =>
        signal.aborted ? abortReason(signal, 'storage getStream') : toStorageError(err, key, where),
      );
    },

    async head(key, opts) {
      const signal = opts.signal ?? new AbortController().signal;
      const res = await withRetry(key, signal, (s) =>
        client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: s }),
      );
      const { [SHA256_META]: sha256, ...metadata } = res.Metadata ?? {};
      return {
        key,
        size: res.ContentLength ?? 0,
        lastModified: res.LastModified ?? new Date(0),
        contentType: res.ContentType ?? 'application/octet-stream',
        metadata,
        ...(res.ETag === undefined ? {} : { etag: res.ETag }),
        ...(res.CacheControl === undefined ? {} : { cacheControl: res.CacheControl }),
        ...(sha256 === undefined ? {} : { sha256 }),
      };
    },

    async delete(key, opts) {
      const signal = opts.signal ?? new AbortController().signal;
      await withRetry(key, signal, (s) =>
        client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: s }),
      );
    },

    async deleteMany(keys, opts) {
      const signal = opts.signal ?? new AbortController().signal;
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        const res = await withRetry(undefined, signal, (s) =>
          client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
            { abortSignal: s },
          ),
        );
        const failed = res.Errors?.[0];
        if (failed !== undefined) {
          throw new StorageError(
            StorageErrorCode.Backend,
            `S3 could not delete ${res.Errors?.length} object(s), e.g. "${failed.Key}" (${failed.Code})`,
            failed.Key === undefined ? {} : { key: failed.Key },
          );
        }
      }
    },

    async copy(from, to, opts) {
      const signal = opts.signal ?? new AbortController().signal;
      const source = `${bucket}/${from.split('/').map(encodeURIComponent).join('/')}`;
      const head = await withRetry(from, signal, (s) =>
        client.send(new HeadObjectCommand({ Bucket: bucket, Key: from }), { abortSignal: s }),
      );
      if ((head.ContentLength ?? 0) > copyLimit) {
        await multipartCopy({
          client,
          bucket,
          to,
          source,
          head,
          partSize: copyPartSize,
          withRetry: (fn) => withRetry(from, signal, fn),
        });
        return;
      }
      await withRetry(from, signal, (s) =>
        client.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: to,
            CopySource: source,
            MetadataDirective: 'COPY',
          }),
          { abortSignal: s },
        ),
      );
    },

    async list(prefix, opts) {
      const signal = opts.signal ?? new AbortController().signal;
      const res = await withRetry(undefined, signal, (s) =>
        client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix === '' ? undefined : prefix,
            MaxKeys: Math.min(opts.limit ?? 1000, 1000),
            ...(opts.cursor === undefined ? {} : { ContinuationToken: opts.cursor }),
          }),
          { abortSignal: s },
        ),
      );
      const items = (res.Contents ?? []).map((o) => ({
        key: o.Key ?? '',
        size: o.Size ?? 0,
        lastModified: o.LastModified ?? new Date(0),
        ...(o.ETag === undefined ? {} : { etag: o.ETag }),
      }));
      return res.IsTruncated && res.NextContinuationToken
        ? { items, cursor: res.NextContinuationToken }
        : { items };
    },

    async signedUrl(key, opts) {
      // S3 counts whole seconds; `expiresIn` is a Duration (milliseconds as a number).
      const expiresIn = Math.ceil(expiresInMs(opts.expiresIn) / 1000);
      const command =
        opts.method === 'PUT'
          ? new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              ...(opts.contentType === undefined ? {} : { ContentType: opts.contentType }),
            })
          : new GetObjectCommand({ Bucket: bucket, Key: key });
      // A PUT made for a Content-Type binds it, as the local driver's signed PUT does: the header
      // is signed (not hoisted into the query), so S3 refuses an upload of another type.
      const bindsType = opts.method === 'PUT' && opts.contentType !== undefined;
      return getSignedUrl(getPresignClient(), command, {
        expiresIn,
        ...(bindsType
          ? {
              signableHeaders: new Set(['content-type']),
              unhoistableHeaders: new Set(['content-type']),
            }
          : {}),
      });
    },

    async health(opts) {
      const started = performance.now();
      const signal = opts.signal ?? new AbortController().signal;
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
        return { available: true, latencyMs: performance.now() - started, backend: driver.name };
      } catch (err) {
        return {
          available: false,
          latencyMs: performance.now() - started,
          backend: driver.name,
          error: toStorageError(err, undefined, where).message,
        };
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      if (!own) return;
      client.destroy();
      presignClient?.destroy();
    },
  };
  return driver;
}
