import { type Clock, type Duration, isAbortedError, systemClock } from '@org/core';
import { check, invalidOption, isBreakerOpenError, isBulkheadRejectedError } from './errors.js';

/** What each attempt receives. */
export interface AttemptContext {
  /** Aborts when the caller aborts or this attempt's `timeout` passes. Hand it to the I/O. */
  signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
}

/** What `onRetry` is told before each wait. */
export interface RetryInfo {
  /** The attempt that just failed (1 for the first). */
  attempt: number;
  /** How long the wait before the next attempt is, in milliseconds. */
  delayMs: number;
  /** The error the attempt failed with. */
  error: unknown;
}

/** Options of `retry()` and `retryPolicy()`. Every duration is a core `Duration` (number = ms). */
export interface RetryOptions {
  /** Total attempts, the first included. @default 3 */
  attempts?: number | undefined;
  /** Base delay before the first retry; doubles per retry. @default '100ms' */
  minDelay?: Duration | undefined;
  /** Cap on any one delay. @default '10s' */
  maxDelay?: Duration | undefined;
  /**
   * Overall budget for all attempts and delays, from the first attempt. No retry starts that
   * could not begin before it, and a running attempt is aborted when it passes.
   * @default no deadline
   */
  deadline?: Duration | undefined;
  /** Per-attempt timeout; the attempt's signal aborts then. @default none */
  timeout?: Duration | undefined;
  /**
   * Decides whether an error is worth another attempt. The default retries everything except
   * aborts, open breakers, full bulkheads and HTTP 4xx other than 408 and 429.
   */
  retryOn?: ((err: unknown, attempt: number) => boolean) | undefined;
  /**
   * Honour a `Retry-After` the error carries (header or field): the next attempt waits at least
   * that long, and when it asks for more than `maxDelay` retrying stops with the error.
   * @default true
   */
  respectRetryAfter?: boolean | undefined;
  /** Stops waiting and attempting as soon as it aborts. */
  signal?: AbortSignal | undefined;
  /** Called before each wait, e.g. for logging. */
  onRetry?: ((info: RetryInfo) => void) | undefined;
  /** Source of randomness for jitter, in [0, 1). @default Math.random */
  random?: (() => number) | undefined;
  /** The time source of the deadline and of `Retry-After` dates. @default systemClock */
  clock?: Clock | undefined;
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

/** The default `retryOn`: not an abort, an open breaker, a full bulkhead or a client error. */
export function isRetryable(err: unknown): boolean {
  return !(
    isAbortedError(err) ||
    isBreakerOpenError(err) ||
    isBulkheadRejectedError(err) ||
    isClientError(err)
  );
}

/** {@link RetryOptions} checked, with defaults applied and durations in milliseconds. */
export interface ResolvedRetry {
  readonly attempts: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly deadlineMs: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly retryOn: (err: unknown, attempt: number) => boolean;
  readonly respectRetryAfter: boolean;
  readonly signal: AbortSignal | undefined;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
  readonly random: (() => number) | undefined;
  readonly clock: Clock;
  /** The breaker running this retry, as the `org.retry.attempts` attribute. */
  readonly breakerName?: string | undefined;
}

/** The defaults, resolved once: `retry(fn)` with no options pays for no checks. */
export const DEFAULT_RETRY: ResolvedRetry = Object.freeze({
  attempts: 3,
  minDelayMs: 100,
  maxDelayMs: 10_000,
  deadlineMs: undefined,
  timeoutMs: undefined,
  retryOn: isRetryable,
  respectRetryAfter: true,
  signal: undefined,
  onRetry: undefined,
  random: undefined,
  clock: systemClock,
});

/** Checks `o` and applies the defaults; throws `ERR_RESILIENCE_INVALID_OPTION` naming a bad option. */
export function resolveRetryOptions(o: RetryOptions, prefix = ''): ResolvedRetry {
  check.object(o, `${prefix}retry options`);
  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidOption(`\`${prefix}signal\` must be an AbortSignal.`);
  }
  const clock = o.clock ?? systemClock;
  if (typeof clock?.now !== 'function') {
    throw invalidOption(`\`${prefix}clock\` must be a Clock: an object with now().`);
  }
  return {
    attempts: check.integer(o.attempts, `${prefix}attempts`, 3, { min: 1, max: 1000 }),
    minDelayMs: check.duration(o.minDelay, `${prefix}minDelay`, 100),
    maxDelayMs: check.duration(o.maxDelay, `${prefix}maxDelay`, 10_000),
    deadlineMs: check.duration(o.deadline, `${prefix}deadline`, undefined, { min: 1 }),
    timeoutMs: check.duration(o.timeout, `${prefix}timeout`, undefined, { min: 1 }),
    retryOn:
      check.func<(err: unknown, attempt: number) => boolean>(o.retryOn, `${prefix}retryOn`) ??
      isRetryable,
    respectRetryAfter: check.boolean(o.respectRetryAfter, `${prefix}respectRetryAfter`, true),
    signal,
    onRetry: check.func<(info: RetryInfo) => void>(o.onRetry, `${prefix}onRetry`),
    random: check.func<() => number>(o.random, `${prefix}random`),
    clock,
  };
}
