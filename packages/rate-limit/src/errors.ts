import { errorGuard, OrgError, optionChecks } from '@org/core';

/**
 * Stable codes of every error @org/rate-limit creates. Aborts and timeouts are core's
 * `AbortedError` (`ERR_ABORTED`) and `TimeoutError` (`ERR_TIMEOUT`), shared by every @org package.
 */
export const RateLimitErrorCode = {
  /** An option or argument is invalid; the message says which and what is accepted. */
  InvalidOption: 'ERR_RATE_LIMIT_INVALID_OPTION',
  /** `limit()` named a tier the limiter was not created with. */
  UnknownTier: 'ERR_RATE_LIMIT_UNKNOWN_TIER',
  /**
   * Redis could not be reached and the tier's `failurePolicy` is `closed`: the request is
   * refused because it could not be counted (HTTP middleware answers 503, not 429).
   */
  Unavailable: 'ERR_RATE_LIMIT_UNAVAILABLE',
  /** A Redis command failed; `cause` is the client's error. Carried by events only. */
  Backend: 'ERR_RATE_LIMIT_BACKEND',
  /** `redis` was given as a URL but the optional peer `ioredis` is not installed. */
  MissingPeer: 'ERR_RATE_LIMIT_MISSING_PEER',
  /** The body code of the middleware's 429: the client is over its limit. */
  Limited: 'ERR_RATE_LIMIT_LIMITED',
  /** The body code of the middleware's 400: no client key could be read from the request. */
  NoKey: 'ERR_RATE_LIMIT_NO_KEY',
} as const;

/** One of the {@link RateLimitErrorCode} values. */
export type RateLimitErrorCode = (typeof RateLimitErrorCode)[keyof typeof RateLimitErrorCode];

/** The one error class of @org/rate-limit. */
export class RateLimitError extends OrgError<RateLimitErrorCode> {
  override name = 'RateLimitError';
}

/**
 * Any error created by @org/rate-limit, from any copy of the package; optionally of one `code`.
 * Holds across two copies of the package, where `instanceof RateLimitError` would not.
 */
export const isRateLimitError: (err: unknown, code?: RateLimitErrorCode) => err is RateLimitError =
  errorGuard<RateLimitError>('ERR_RATE_LIMIT_');

/** An option failed validation. */
export function invalidOption(message: string): RateLimitError {
  return new RateLimitError(RateLimitErrorCode.InvalidOption, message);
}

/** The package's option checks: each throws `ERR_RATE_LIMIT_INVALID_OPTION` naming the option. */
export const check = optionChecks(invalidOption);

/** What `connectRedis` reports, as this package's error: a missing peer keeps its own code. */
export function redisFail(message: string): RateLimitError {
  return new RateLimitError(
    message.includes('`ioredis` is not installed')
      ? RateLimitErrorCode.MissingPeer
      : RateLimitErrorCode.InvalidOption,
    message,
  );
}

/** Wraps what a Redis command threw, keeping it as `cause`; core errors pass as they are. */
export function backendError(cause: unknown): OrgError {
  if (cause instanceof OrgError) return cause;
  return new RateLimitError(
    RateLimitErrorCode.Backend,
    'A Redis rate-limit command failed; the tier fell back to its failurePolicy. Check that Redis is reachable.',
    { cause },
  );
}

/** A Redis failure this package noticed itself (no answer, no connection), as `ERR_RATE_LIMIT_BACKEND`. */
export function backendFailure(what: string): RateLimitError {
  return new RateLimitError(
    RateLimitErrorCode.Backend,
    `${what}; the tier fell back to its failurePolicy. Check that Redis is reachable.`,
  );
}
