import { sleep, throwIfAborted, withTimeout } from './abort.js';
import { fullJitterDelay } from './backoff.js';
import {
  type AbortedError,
  isAbortedError,
  isBreakerOpenError,
  isBulkheadRejectedError,
  RetryExhaustedError,
} from './errors.js';
import { retryAfterMs } from './retry-after.js';
import { checkFunction, checkInteger, checkNumber, checkSignal } from './validate.js';

/** What each attempt receives. */
export interface AttemptContext {
  /** Aborts when the caller aborts or this attempt's `timeout` passes. Hand it to the I/O. */
  signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
}

/** Options of `retry()` and `retryPolicy()`. */
export interface RetryOptions {
  /** Total attempts, the first included. @default 3 */
  attempts?: number;
  /** Base delay before the first retry, in milliseconds; doubles per retry. @default 100 */
  minDelay?: number;
  /** Cap on any one delay, in milliseconds. @default 10_000 */
  maxDelay?: number;
  /**
   * Overall budget for all attempts and delays, in milliseconds from the first attempt. No retry
   * starts that could not begin before it, and a running attempt is aborted when it passes.
   * @default no deadline
   */
  deadline?: number;
  /** Per-attempt timeout in milliseconds; the attempt's signal aborts then. @default none */
  timeout?: number;
  /**
   * Decides whether an error is worth another attempt. The default retries everything except
   * aborts, open breakers, full bulkheads and HTTP 4xx other than 408 and 429.
   */
  retryOn?: (err: unknown, attempt: number) => boolean;
  /**
   * Honour a `Retry-After` the error carries (header or field): the next attempt waits at least
   * that long, and when it asks for more than `maxDelay` retrying stops with the error.
   * @default true
   */
  respectRetryAfter?: boolean;
  /** Stops waiting and attempting as soon as it aborts. */
  signal?: AbortSignal;
  /** Called before each delay, e.g. for logging. */
  onRetry?: (info: { attempt: number; delay: number; error: unknown }) => void;
  /** Source of randomness for jitter, in [0, 1). @default Math.random */
  random?: () => number;
  /** Milliseconds since the epoch. @default Date.now */
  clock?: () => number;
}

/** HTTP status of an error from the usual clients (`status`, `statusCode`, `$metadata`). */
export function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as {
    status?: unknown;
    statusCode?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const s = e.status ?? e.statusCode ?? e.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

/** True for HTTP 4xx other than 408 (timeout) and 429 (rate limited): the caller's mistake. */
export function isClientError(err: unknown): boolean {
  const s = statusOf(err);
  return s !== undefined && s >= 400 && s < 500 && s !== 408 && s !== 429;
}

/** The default `retryOn`. */
export function isRetryable(err: unknown): boolean {
  return !(
    isAbortedError(err) ||
    isBreakerOpenError(err) ||
    isBulkheadRejectedError(err) ||
    isClientError(err)
  );
}

function validate(o: RetryOptions): void {
  checkInteger('attempts', o.attempts, 1, 1000);
  checkNumber('minDelay', o.minDelay, 0);
  checkNumber('maxDelay', o.maxDelay, 0);
  checkNumber('deadline', o.deadline, 1);
  checkNumber('timeout', o.timeout, 1);
  checkFunction('retryOn', o.retryOn);
  checkFunction('onRetry', o.onRetry);
  checkSignal(o.signal);
}

/**
 * Runs `fn` until it succeeds, with exponential backoff and full jitter between attempts.
 * Throws `RetryExhaustedError` (last error as `cause`) when attempts or the deadline run out,
 * rethrows at once an error `retryOn` refuses (so an open breaker or a 404 surfaces as itself),
 * and `AbortedError` as soon as `signal` aborts.
 */
export async function retry<T>(
  fn: (ctx: AttemptContext) => Promise<T> | T,
  options: RetryOptions = NO_OPTIONS,
): Promise<T> {
  if (typeof fn !== 'function') throw new TypeError('retry(fn): fn must be a function');
  if (options !== NO_OPTIONS) validate(options);
  const attempts = options.attempts ?? 3;
  const minDelay = options.minDelay ?? 100;
  const maxDelay = options.maxDelay ?? 10_000;
  const retryOn = options.retryOn ?? isRetryable;
  const clock = options.clock ?? (() => Date.now());
  const respectRetryAfter = options.respectRetryAfter ?? true;
  const deadlineAt = options.deadline === undefined ? undefined : clock() + options.deadline;
  const signal = options.signal;

  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    const remaining = deadlineAt === undefined ? undefined : deadlineAt - clock();
    const timeout = minDefined(options.timeout, remaining);
    let error: unknown;
    try {
      if (timeout === undefined) return await fn({ signal: signal ?? noSignal, attempt });
      return await withTimeout((s) => fn({ signal: s, attempt }), Math.max(1, timeout), signal);
    } catch (err) {
      error = err;
    }
    if (isAbortedError(error) && signal?.aborted) throw error as AbortedError;
    if (!retryOn(error, attempt)) throw error;
    const pastDeadline = deadlineAt !== undefined && clock() >= deadlineAt;
    if (attempt >= attempts || pastDeadline)
      throw new RetryExhaustedError(attempt, error, pastDeadline);

    let delay = fullJitterDelay(attempt, minDelay, maxDelay, options.random);
    const asked = respectRetryAfter ? retryAfterMs(error, clock()) : undefined;
    if (asked !== undefined) {
      // Retrying before the server said it would be ready is wasted; when it asks for longer
      // than we may wait, give up now rather than hammer it or hang the caller.
      if (asked > maxDelay) throw new RetryExhaustedError(attempt, error);
      delay = Math.max(delay, asked);
    }
    if (deadlineAt !== undefined && clock() + delay >= deadlineAt) {
      throw new RetryExhaustedError(attempt, error, true);
    }
    options.onRetry?.({ attempt, delay, error });
    if (delay > 0) await sleep(delay, signal);
  }
}

const NO_OPTIONS: RetryOptions = Object.freeze({});

/** The signal attempts get when the caller gave none: it never aborts. */
export const noSignal: AbortSignal = new AbortController().signal;

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
