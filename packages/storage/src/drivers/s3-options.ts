import type { S3Client } from '@aws-sdk/client-s3';
import type { Duration } from '@org/core';

/** What the S3 driver tells of each retry: the attempt that failed (1 = first), the wait before the next, the error. */
export interface RetryInfo {
  attempt: number;
  /** The wait before the next attempt, in milliseconds. */
  delayMs: number;
  error: unknown;
}

/**
 * The retry function the S3 driver runs each repeatable request through: `retry` of
 * `@org/resilience/retry` by default (the driver never loads the breaker, nor opossum). Any
 * function of this shape will do; `onRetry` may report the wait as `delayMs` or `delay`.
 */
export type RetryFn = <T>(
  fn: (ctx: { signal: AbortSignal; attempt: number }) => Promise<T>,
  options: {
    attempts: number;
    minDelay: number;
    maxDelay: number;
    retryOn: (err: unknown) => boolean;
    signal: AbortSignal;
    onRetry?: (info: { attempt: number; error: unknown; delay?: number; delayMs?: number }) => void;
  },
) => Promise<T>;

/** Retries of the S3 driver (throttling, 5xx, network errors). */
export interface S3RetryOptions {
  /** Attempts per call, the first included; 1 turns retries off. @default 3 */
  attempts?: number | undefined;
  /** Delay before the first retry; doubles each time, with full jitter. @default '100ms' */
  minDelay?: Duration | undefined;
  /** Cap on one delay. @default '2s' */
  maxDelay?: Duration | undefined;
  /** Called before each retry (no secrets in `error`'s message). @default none */
  onRetry?: ((info: RetryInfo) => void) | undefined;
}

/** Options of the S3 / R2 driver. */
export interface S3DriverOptions {
  /** Bucket name. */
  bucket: string;
  /**
   * An `S3Client` you already hold. Its own settings (retries, checksums, timeouts) are then
   * yours; the driver's `region`, `endpoint`, `credentials` and timeouts are ignored.
   * @default a client built from the options below
   */
  client?: S3Client | undefined;
  /**
   * `"aws"` for Amazon S3 and S3-compatible servers; `"r2"` for Cloudflare R2: region `auto`,
   * checksum calculation and validation `WHEN_REQUIRED` (aws-sdk-js-v3 issue 6810).
   * @default "aws"
   */
  profile?: 'aws' | 'r2' | undefined;
  /** Region. @default "auto" for R2, else "us-east-1" */
  region?: string | undefined;
  /** Endpoint of an S3-compatible server, e.g. `https://<account>.r2.cloudflarestorage.com`. @default AWS */
  endpoint?: string | undefined;
  /** Static credentials. @default the AWS SDK's provider chain (env, profile, IMDS…) */
  credentials?:
    | { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined }
    | undefined;
  /** Path-style URLs (`endpoint/bucket/key`), needed by MinIO and moto. @default false */
  forcePathStyle?: boolean | undefined;
  /**
   * Bodies larger than this, and streams longer than it, go up in parts of this size (bytes,
   * at least 5 MiB) for the first 1,000 parts; then the part size doubles every 1,000 parts, so
   * that a stream of unknown length can reach S3's 5 TiB object limit within its 10,000 parts.
   * A stream upload holds `partSize × (queueSize + 1)` bytes of parts (twice that past
   * `1,000 × partSize`, 4.9 GiB by default, and so on); Buffer bodies are sent in slices of
   * themselves, with no copy. @default 5 MiB
   */
  partSize?: number | undefined;
  /**
   * Parts sent while the next one fills (an integer ≥ 0). A stream upload holds
   * `partSize × (queueSize + 1)` bytes of parts: 10 MiB by default, with which a 1 GiB stream
   * peaks at about 95 MiB of RSS (README, Bench). Raise it where the link to S3, not memory, is
   * the limit: each part in flight is one connection. @default 1
   */
  queueSize?: number | undefined;
  /**
   * After a multipart upload, add the object's SHA-256 to its metadata (so that `head()`
   * returns it, as for single-part puts) with a `CopyObject` of the object onto itself, for
   * objects up to `copyLimit`. Off by default: the copy lengthens every large put and, in a
   * versioned bucket, is a second version of the object. Without it `put` returns
   * `sha256Stored: false` for multipart objects (the hash is still in its result). Where the
   * client computes checksums (the `aws` profile), it also makes multipart uploads ask for a
   * full-object CRC32, which stays valid across the copy and which the SDK verifies on whole
   * downloads, instead of lib-storage's composite one, which the SDK does not verify.
   * @default false
   */
  storeMultipartSha256?: boolean | undefined;
  /**
   * Objects larger than this (bytes) are copied part by part with `UploadPartCopy` (parts of
   * up to 1 GiB) instead of one `CopyObject`, whose limit is 5 GiB. @default 5 GiB
   */
  copyLimit?: number | undefined;
  /** Time to open a connection. @default '5s' */
  connectTimeout?: Duration | undefined;
  /** Time a socket may stay silent mid-request. @default '30s' */
  idleTimeout?: Duration | undefined;
  /** Retries on throttling, 5xx and network errors. @default { attempts: 3, minDelay: '100ms', maxDelay: '2s' } */
  retry?: S3RetryOptions | undefined;
  /** The retry function. @default `retry` from `@org/resilience/retry` */
  retryFn?: RetryFn | undefined;
}
