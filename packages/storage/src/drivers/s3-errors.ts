import { isOrgError, type OrgError } from '@org/core';
import { notFound, StorageError, StorageErrorCode } from '../errors.js';

const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);
const THROTTLE = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'TimeoutError',
]);

interface AwsLike {
  name?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function status(err: unknown): number | undefined {
  return (err as AwsLike | undefined)?.$metadata?.httpStatusCode;
}

function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as AwsLike).code;
    if (code !== undefined && NETWORK.has(code)) return code;
  }
  return undefined;
}

/** Whether an S3 error is worth another attempt: throttling, 5xx, network trouble. */
export function isTransientS3Error(err: unknown): boolean {
  if (isOrgError(err)) return false;
  const e = err as AwsLike;
  if (e?.name === 'AbortError') return false;
  const s = status(err);
  if (s !== undefined && (s >= 500 || s === 429)) return true;
  if (e?.name !== undefined && THROTTLE.has(e.name)) return true;
  return networkCode(err) !== undefined;
}

/**
 * Maps an AWS SDK error to a StorageError with a message that says what to do. An error of an
 * @org package (a StorageError, core's AbortedError or TimeoutError) passes through as it is.
 */
export function toStorageError(err: unknown, key: string | undefined, where: string): OrgError {
  if (isOrgError(err)) return err;
  const e = err as AwsLike & Error;
  const s = status(err);
  const name = e?.name ?? 'Error';
  const k = key === undefined ? {} : { key };
  // The HTTP status when there was an answer, and the SDK's error name.
  const what = s === undefined ? name : `${s} ${name}`;
  if (name === 'NoSuchKey' || name === 'NotFound' || (s === 404 && name !== 'NoSuchBucket')) {
    return notFound(key ?? '', err);
  }
  if (name === 'InvalidRange' || s === 416) {
    return new StorageError(StorageErrorCode.InvalidRange, `Range is outside "${key}"`, {
      ...k,
      cause: err,
    });
  }
  if (name === 'NoSuchBucket') {
    return new StorageError(
      StorageErrorCode.InvalidOption,
      `Bucket does not exist at ${where}: create it, or fix the bucket name (the \`bucket\` option; AWS_S3_BUCKET with createStorageFromEnv)`,
      { ...k, cause: err },
    );
  }
  if (
    s === 403 ||
    name === 'AccessDenied' ||
    name === 'InvalidAccessKeyId' ||
    name === 'SignatureDoesNotMatch'
  ) {
    return new StorageError(
      StorageErrorCode.Backend,
      `S3 refused the request (${name}): check the credentials and the bucket policy`,
      { ...k, cause: err },
    );
  }
  if (name === 'CredentialsProviderError') {
    return new StorageError(
      StorageErrorCode.Backend,
      'No AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), pass `credentials`, or run where a role provides them',
      { ...k, cause: err },
    );
  }
  const net = networkCode(err);
  if (net !== undefined || name === 'TimeoutError') {
    return new StorageError(
      StorageErrorCode.Unavailable,
      `S3 is unreachable at ${where} (${net ?? name}): check S3_ENDPOINT, the network and that the service is up`,
      { ...k, cause: err },
    );
  }
  if (isTransientS3Error(err)) {
    return new StorageError(
      StorageErrorCode.Unavailable,
      `S3 kept failing at ${where} (${what}) after the retries: try again later`,
      { ...k, cause: err },
    );
  }
  return new StorageError(StorageErrorCode.Backend, `S3 request failed (${what})`, {
    ...k,
    cause: err,
  });
}
