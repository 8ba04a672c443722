/**
 * `retry` and what goes with it: its options, backoff with full jitter, `Retry-After` parsing.
 * This is also the `@org/resilience/retry` entry, so nothing imported here may load opossum:
 * a package that only retries (`@org/storage`) must not pay for the breaker.
 */
import { invalidOption } from './errors.js';
import { runRetry } from './retry-loop.js';
import {
  type AttemptContext,
  DEFAULT_RETRY,
  type RetryOptions,
  resolveRetryOptions,
} from './retry-options.js';

export { fullJitterDelay } from './backoff.js';
export {
  isResilienceError,
  isRetryExhaustedError,
  ResilienceError,
  ResilienceErrorCode,
  RetryExhaustedError,
} from './errors.js';
export { parseRetryAfter, retryAfterMs } from './retry-after.js';
export {
  type AttemptContext,
  isClientError,
  isRetryable,
  type RetryInfo,
  type RetryOptions,
  statusOf,
} from './retry-options.js';

/**
 * Runs `fn` until it succeeds, with exponential backoff and full jitter between attempts.
 * Rejects with `RetryExhaustedError` (last error as `cause`) when attempts or the deadline run
 * out, rethrows at once an error `retryOn` refuses (so an open breaker or a 404 surfaces as
 * itself), and rejects with core's `AbortedError` as soon as `signal` aborts.
 */
export function retry<T>(
  fn: (ctx: AttemptContext) => Promise<T> | T,
  options?: RetryOptions,
): Promise<T> {
  if (typeof fn !== 'function') {
    return Promise.reject(invalidOption('retry(fn): `fn` must be a function.'));
  }
  let resolved = DEFAULT_RETRY;
  if (options !== undefined) {
    try {
      resolved = resolveRetryOptions(options);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return runRetry(fn, resolved);
}
