/**
 * Errors of @org/resilience. Each carries a stable `code`; guards check the code and a
 * `Symbol.for` brand rather than `instanceof`, so they hold when an app ends up with two copies
 * of this package (a hoisting accident, or a CJS and an ESM copy side by side).
 */

const BRAND = Symbol.for('@org/resilience.error');

/** Stable codes of every error this package throws. */
export type ResilienceErrorCode =
  | 'ERR_BREAKER_OPEN'
  | 'ERR_BREAKER_TIMEOUT'
  | 'ERR_BREAKER_SHUTDOWN'
  | 'ERR_BULKHEAD_FULL'
  | 'ERR_RETRY_EXHAUSTED'
  | 'ERR_RETRY_DEADLINE'
  | 'ERR_ABORTED'
  | 'ERR_RESILIENCE_INVALID_OPTION';

/** Base class of every error thrown by @org/resilience. */
export class ResilienceError extends Error {
  readonly code: ResilienceErrorCode;
  constructor(code: ResilienceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ResilienceError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** The breaker is open (or its half-open probes are all taken): `fn` was not called. */
export class BreakerOpenError extends ResilienceError {
  /** Name of the breaker that rejected the call. */
  readonly breaker: string;
  /** Milliseconds until the breaker lets a probe through, when known. */
  readonly retryAfterMs: number | undefined;
  constructor(breaker: string, retryAfterMs?: number) {
    super(
      'ERR_BREAKER_OPEN',
      `Circuit breaker "${breaker}" is open: the call was not attempted. Retry after the open period, or handle it with a fallback.`,
    );
    this.name = 'BreakerOpenError';
    this.breaker = breaker;
    this.retryAfterMs = retryAfterMs;
  }
}

/** An attempt ran past its `timeout`; its signal was aborted. */
export class TimeoutError extends ResilienceError {
  /** The timeout that was exceeded, in milliseconds. */
  readonly timeoutMs: number;
  constructor(timeoutMs: number, what = 'The call') {
    super(
      'ERR_BREAKER_TIMEOUT',
      `${what} timed out after ${timeoutMs} ms. Raise \`timeout\` if the upstream is legitimately slower.`,
    );
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** The bulkhead's `maxConcurrent` calls are in flight (and its queue, if any, is full). */
export class BulkheadRejectedError extends ResilienceError {
  constructor(breaker: string, maxConcurrent: number) {
    super(
      'ERR_BULKHEAD_FULL',
      `Breaker "${breaker}" already has ${maxConcurrent} calls in flight; raise \`bulkhead.maxConcurrent\` or \`bulkhead.maxQueue\`, or shed the load.`,
    );
    this.name = 'BulkheadRejectedError';
  }
}

/** Every attempt failed, or the deadline passed; `cause` is the last attempt's error. */
export class RetryExhaustedError extends ResilienceError {
  /** How many attempts were made. */
  readonly attempts: number;
  constructor(attempts: number, cause: unknown, deadline = false) {
    super(
      deadline ? 'ERR_RETRY_DEADLINE' : 'ERR_RETRY_EXHAUSTED',
      deadline
        ? `Gave up after ${attempts} attempt(s): the retry deadline passed. The last error is attached as \`cause\`.`
        : `Gave up after ${attempts} attempt(s). The last error is attached as \`cause\`.`,
      { cause },
    );
    this.name = 'RetryExhaustedError';
    this.attempts = attempts;
  }
}

/** The caller's AbortSignal fired; `cause` is the signal's reason. */
export class AbortedError extends ResilienceError {
  constructor(reason: unknown) {
    super('ERR_ABORTED', 'The operation was aborted by its caller.', { cause: reason });
    this.name = 'AbortError';
  }
}

/** The breaker was shut down; it no longer runs calls. */
export class BreakerShutdownError extends ResilienceError {
  constructor(breaker: string) {
    super(
      'ERR_BREAKER_SHUTDOWN',
      `Circuit breaker "${breaker}" was shut down; create a new one to make calls.`,
    );
    this.name = 'BreakerShutdownError';
  }
}

/** An option was out of range or of the wrong type. */
export class InvalidOptionError extends ResilienceError {
  constructor(message: string) {
    super('ERR_RESILIENCE_INVALID_OPTION', message);
    this.name = 'InvalidOptionError';
  }
}

function hasCode(err: unknown, ...codes: ResilienceErrorCode[]): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; [BRAND]?: unknown };
  return e[BRAND] === true && codes.includes(e.code as ResilienceErrorCode);
}

/** Any error thrown by @org/resilience, from any copy of the package. */
export const isResilienceError = (err: unknown): err is ResilienceError =>
  typeof err === 'object' && err !== null && (err as { [BRAND]?: unknown })[BRAND] === true;
/** The call was refused because a breaker is open. */
export const isBreakerOpenError = (err: unknown): err is BreakerOpenError =>
  hasCode(err, 'ERR_BREAKER_OPEN');
/** An attempt timed out. */
export const isTimeoutError = (err: unknown): err is TimeoutError =>
  hasCode(err, 'ERR_BREAKER_TIMEOUT');
/** A bulkhead refused the call. */
export const isBulkheadRejectedError = (err: unknown): err is BulkheadRejectedError =>
  hasCode(err, 'ERR_BULKHEAD_FULL');
/** Retries were exhausted or their deadline passed. */
export const isRetryExhaustedError = (err: unknown): err is RetryExhaustedError =>
  hasCode(err, 'ERR_RETRY_EXHAUSTED', 'ERR_RETRY_DEADLINE');
/** The caller aborted. */
export const isAbortedError = (err: unknown): err is AbortedError => hasCode(err, 'ERR_ABORTED');
