import { errorGuard, OrgError, optionChecks } from '@org/core';

/**
 * Stable codes of every error @org/cache creates. Aborts and caller-visible timeouts are core's
 * `AbortedError` (`ERR_ABORTED`) and `TimeoutError` (`ERR_TIMEOUT`), shared by every @org package.
 *
 * The cache never throws into `get`/`set`/`getOrSet` because Redis failed: backend errors are
 * reported on the `error` event only. These codes are thrown for misuse (a bad option) and
 * carried by events.
 */
export const CacheErrorCode = {
  /** A Redis (L2) command failed; `cause` is the client's error. Event only. */
  Backend: 'ERR_CACHE_BACKEND',
  /** A value could not be serialized (thrown), or a stored value could not be read back (event). */
  Serialize: 'ERR_CACHE_SERIALIZE',
  /** An option or argument is invalid; the message says which and what is accepted. */
  InvalidOption: 'ERR_CACHE_INVALID_OPTION',
  /** `redis` was given as a URL but the optional peer `ioredis` is not installed. Event only. */
  MissingPeer: 'ERR_CACHE_MISSING_PEER',
  /** The driver does not implement an optional member the call needs. Event only. */
  Unsupported: 'ERR_CACHE_UNSUPPORTED',
} as const;

/** One of the {@link CacheErrorCode} values. */
export type CacheErrorCode = (typeof CacheErrorCode)[keyof typeof CacheErrorCode];

/** The one error class of @org/cache. */
export class CacheError extends OrgError<CacheErrorCode> {
  override name = 'CacheError';
}

/**
 * Any error created by @org/cache, from any copy of the package; optionally of one `code`.
 * Holds across two copies of the package, where `instanceof CacheError` would not.
 */
export const isCacheError: (err: unknown, code?: CacheErrorCode) => err is CacheError =
  errorGuard<CacheError>('ERR_CACHE_');

/** An option failed validation. */
export function invalidOption(message: string): CacheError {
  return new CacheError(CacheErrorCode.InvalidOption, message);
}

/** The package's option checks: each throws `ERR_CACHE_INVALID_OPTION` naming the option. */
export const check = optionChecks(invalidOption);

/** Wraps whatever a backend threw into a CacheError, keeping it as `cause`. */
export function backendError(operation: string, cause: unknown): CacheError {
  if (isCacheError(cause)) return cause;
  return new CacheError(
    CacheErrorCode.Backend,
    `Cache backend failed during ${operation}; the call fell back to memory/loader. Check that Redis is reachable.`,
    { cause },
  );
}

/** A stored value the serializer could not read back. */
export function corruptValueError(cause: unknown): CacheError {
  return new CacheError(
    CacheErrorCode.Serialize,
    'A stored value could not be read back; it was treated as a miss. Was it written with another serializer?',
    { cause },
  );
}

/** The driver lacks an optional member a call needs. */
export function unsupported(
  driver: { readonly name: string },
  member: string,
  consequence = 'the call went on without it',
): CacheError {
  return new CacheError(
    CacheErrorCode.Unsupported,
    `The "${driver.name}" driver has no ${member}; ${consequence}.`,
  );
}

/** Bytes in L2 that are no entry this package wrote (the cause of a corrupt-value report). */
export function notAnEntry(): CacheError {
  return new CacheError(CacheErrorCode.Serialize, 'The stored value is not an @org/cache entry.');
}
