/**
 * Errors of @org/cache. Each carries a stable `code`; `isCacheError` checks a `Symbol.for`
 * brand rather than `instanceof`, so it holds when an app ends up with two copies of the package.
 *
 * The cache never throws these into `get`/`set`/`getOrSet` because Redis failed: backend errors
 * are reported on the `error` event only. They are thrown for misuse (a bad option) and carried
 * by events.
 */

const BRAND = Symbol.for('@org/cache.error');

/** Stable codes of every error this package creates. */
export type CacheErrorCode =
  /** A Redis (L2) command failed; `cause` is the client's error. */
  | 'ERR_CACHE_BACKEND'
  /** A Redis (L2) command did not answer within `timeouts.command`. */
  | 'ERR_CACHE_TIMEOUT'
  /** A value could not be serialized or a stored value could not be read back. */
  | 'ERR_CACHE_SERIALIZE'
  /** An option or argument is invalid; the message says which and what is accepted. */
  | 'ERR_CACHE_INVALID_OPTION'
  /** The loader of `getOrSet` ran past `timeouts.hard` and no stale value could be served. */
  | 'ERR_CACHE_LOADER_TIMEOUT'
  /** `redis` was given as a URL but the optional peer `ioredis` is not installed. */
  | 'ERR_CACHE_MISSING_PEER'
  /** The driver does not implement an optional member the call needs. */
  | 'ERR_CACHE_UNSUPPORTED';

/** Base class of every error of @org/cache. */
export class CacheError extends Error {
  readonly code: CacheErrorCode;
  constructor(code: CacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** Any error created by @org/cache, from any copy of the package; optionally of one `code`. */
export function isCacheError(err: unknown, code?: CacheErrorCode): err is CacheError {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; [BRAND]?: unknown };
  return e[BRAND] === true && (code === undefined || e.code === code);
}

/** Wraps whatever a backend threw into a CacheError, keeping it as `cause`. */
export function backendError(operation: string, cause: unknown): CacheError {
  if (isCacheError(cause)) return cause;
  return new CacheError(
    'ERR_CACHE_BACKEND',
    `Cache backend failed during ${operation}; the call fell back to memory/loader. Check that Redis is reachable.`,
    { cause },
  );
}

/** An option failed validation. */
export function invalidOption(message: string): CacheError {
  return new CacheError('ERR_CACHE_INVALID_OPTION', message);
}

/** A stored value the serializer could not read back. */
export function corruptValueError(cause: unknown): CacheError {
  return new CacheError(
    'ERR_CACHE_SERIALIZE',
    'A stored value could not be read back; it was treated as a miss. Was it written with another serializer?',
    { cause },
  );
}
