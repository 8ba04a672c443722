import type { Duration } from '@org/core';
import { check } from './errors.js';

/** Default lifetime of a signed URL: 15 minutes. */
export const DEFAULT_EXPIRES_IN: Duration = '15m';

/** S3's limit on a presigned URL's lifetime: 7 days. */
export const MAX_EXPIRES_IN_MS = 7 * 24 * 3600 * 1000;

/**
 * The lifetime of a signed URL in milliseconds, from its `expiresIn` option: a Duration of at
 * least 1 s (S3 counts whole seconds: a bare `900` is 900 ms, not 15 minutes, and is refused) and
 * at most 7 days. Throws `ERR_STORAGE_INVALID_OPTION`.
 */
export function expiresInMs(value: unknown): number {
  return check.duration(value, 'expiresIn', DEFAULT_EXPIRES_IN, {
    min: 1000,
    max: MAX_EXPIRES_IN_MS,
  });
}
