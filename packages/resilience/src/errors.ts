/**
 * Errors of @org/resilience: one class on core's `OrgError`, with stable codes. The guards check
 * core's registered brand and the code rather than `instanceof`, so they hold when an app ends up
 * with two copies of this package (a hoisting accident, or a CJS and an ESM copy side by side).
 * Aborts and timeouts reject with core's shared `AbortedError` and `TimeoutError`.
 */
import { errorGuard, isOrgError, OrgError, optionChecks } from '@org/core';

/** Stable codes of every error this package throws (besides core's `ERR_ABORTED`, `ERR_TIMEOUT`). */
export const ResilienceErrorCode = {
  /** The breaker is open (or its half-open probes are taken): the call was not attempted. */
  BreakerOpen: 'ERR_RESILIENCE_BREAKER_OPEN',
  /** The bulkhead's calls in flight and its queue are full. */
  BulkheadFull: 'ERR_RESILIENCE_BULKHEAD_FULL',
  /** Every retry attempt failed; `cause` is the last error. */
  RetryExhausted: 'ERR_RESILIENCE_RETRY_EXHAUSTED',
  /** The retry deadline passed; `cause` is the last error. */
  RetryDeadline: 'ERR_RESILIENCE_RETRY_DEADLINE',
  /** The breaker was released with `close()`; it runs no more calls. */
  BreakerShutdown: 'ERR_RESILIENCE_BREAKER_SHUTDOWN',
  /** An option was out of range or of the wrong type; the message names it. */
  InvalidOption: 'ERR_RESILIENCE_INVALID_OPTION',
} as const;

/** One of the {@link ResilienceErrorCode} values. */
export type ResilienceErrorCode = (typeof ResilienceErrorCode)[keyof typeof ResilienceErrorCode];

/** Base class of every error @org/resilience throws itself. */
export class ResilienceError<
  Code extends ResilienceErrorCode = ResilienceErrorCode,
> extends OrgError<Code> {
  override name = 'ResilienceError';
}

/** The breaker is open (or its half-open probes are all taken): `fn` was not called. */
export class BreakerOpenError extends ResilienceError<'ERR_RESILIENCE_BREAKER_OPEN'> {
  override name = 'BreakerOpenError';
  /** Name of the breaker that rejected the call. */
  readonly breaker: string;
  /** Milliseconds until the breaker lets a probe through, when known. */
  readonly retryAfterMs: number | undefined;
  constructor(breaker: string, retryAfterMs?: number) {
    super(
      ResilienceErrorCode.BreakerOpen,
      `Circuit breaker "${breaker}" is open: the call was not attempted. Retry after the open period, or handle it with a fallback.`,
    );
    this.breaker = breaker;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The bulkhead's `maxConcurrent` calls are in flight (and its queue, if any, is full). */
export class BulkheadRejectedError extends ResilienceError<'ERR_RESILIENCE_BULKHEAD_FULL'> {
  override name = 'BulkheadRejectedError';
  /** Name of the breaker whose bulkhead refused the call. */
  readonly breaker: string;
  constructor(breaker: string, maxConcurrent: number) {
    super(
      ResilienceErrorCode.BulkheadFull,
      `Breaker "${breaker}" already has ${maxConcurrent} calls in flight; raise \`bulkhead.maxConcurrent\` or \`bulkhead.maxQueue\`, or shed the load.`,
    );
    this.breaker = breaker;
  }
}

/** Every attempt failed, or the deadline passed; `cause` is the last attempt's error. */
export class RetryExhaustedError extends ResilienceError<
  'ERR_RESILIENCE_RETRY_EXHAUSTED' | 'ERR_RESILIENCE_RETRY_DEADLINE'
> {
  override name = 'RetryExhaustedError';
  /** How many attempts were made. */
  readonly attempts: number;
  constructor(attempts: number, cause: unknown, deadline = false) {
    super(
      deadline ? ResilienceErrorCode.RetryDeadline : ResilienceErrorCode.RetryExhausted,
      deadline
        ? `Gave up after ${attempts} attempt(s): the retry deadline passed. The last error is attached as \`cause\`.`
        : `Gave up after ${attempts} attempt(s). The last error is attached as \`cause\`.`,
      { cause },
    );
    this.attempts = attempts;
  }
}

/** The breaker was released with `close()`; it no longer runs calls. */
export class BreakerShutdownError extends ResilienceError<'ERR_RESILIENCE_BREAKER_SHUTDOWN'> {
  override name = 'BreakerShutdownError';
  constructor(breaker: string) {
    super(
      ResilienceErrorCode.BreakerShutdown,
      `Circuit breaker "${breaker}" was released with close(); create a new one to make calls.`,
    );
  }
}

/** The option checks of this package: they throw `ERR_RESILIENCE_INVALID_OPTION`. */
export const check = optionChecks((message) => invalidOption(message));

/** An `ERR_RESILIENCE_INVALID_OPTION` error with `message`. */
export function invalidOption(message: string): ResilienceError<'ERR_RESILIENCE_INVALID_OPTION'> {
  return new ResilienceError(ResilienceErrorCode.InvalidOption, message);
}

/** Any error thrown by @org/resilience (optionally with `code`), from any copy of the package. */
export const isResilienceError = errorGuard<ResilienceError>('ERR_RESILIENCE_');
/** The call was refused because a breaker is open. */
export const isBreakerOpenError = (err: unknown): err is BreakerOpenError =>
  isOrgError(err, ResilienceErrorCode.BreakerOpen);
/** A bulkhead refused the call. */
export const isBulkheadRejectedError = (err: unknown): err is BulkheadRejectedError =>
  isOrgError(err, ResilienceErrorCode.BulkheadFull);
/** Retries were exhausted or their deadline passed. */
export const isRetryExhaustedError = (err: unknown): err is RetryExhaustedError =>
  isOrgError(err, ResilienceErrorCode.RetryExhausted, ResilienceErrorCode.RetryDeadline);
