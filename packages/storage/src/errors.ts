/** Stable codes of every error this package throws. */
export const StorageErrorCode = {
  /** The key breaks the key rules (see `validateKey`); the message says which rule. */
  INVALID_KEY: 'ERR_STORAGE_INVALID_KEY',
  /** No object under that key. */
  NOT_FOUND: 'ERR_STORAGE_NOT_FOUND',
  /** A byte range outside the object, or with `end < start`. */
  INVALID_RANGE: 'ERR_STORAGE_INVALID_RANGE',
  /** Metadata keys or values that S3 would not keep as given. */
  INVALID_METADATA: 'ERR_STORAGE_INVALID_METADATA',
  /** Options that cannot work (missing bucket, short signing secret…). */
  INVALID_OPTIONS: 'ERR_STORAGE_INVALID_OPTIONS',
  /** The key is both an object and a "folder" of other objects on a file system. */
  KEY_CONFLICT: 'ERR_STORAGE_KEY_CONFLICT',
  /** The backend could not be reached, or kept failing after the retries. */
  UNAVAILABLE: 'ERR_STORAGE_UNAVAILABLE',
  /** The call took longer than its `timeout`. */
  TIMEOUT: 'ERR_STORAGE_TIMEOUT',
  /** The caller's `signal` aborted the call. */
  ABORTED: 'ERR_STORAGE_ABORTED',
  /** A signed URL whose signature, method or expiry does not hold. */
  INVALID_SIGNATURE: 'ERR_STORAGE_INVALID_SIGNATURE',
  /** The backend refused the request (access denied, bad request…). */
  BACKEND: 'ERR_STORAGE_BACKEND',
  /** The driver does not offer this operation. */
  UNSUPPORTED: 'ERR_STORAGE_UNSUPPORTED',
} as const;

export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

const brand = Symbol.for('@org/storage/StorageError');

/**
 * The one error class of `@org/storage`. `code` is stable; `key` names the object when there is
 * one; `cause` carries the backend's error. `instanceof` and `isStorageError` hold even across
 * two copies of the package (the check is a `Symbol.for` brand, not the class identity).
 */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  readonly key: string | undefined;

  constructor(
    code: StorageErrorCode,
    message: string,
    options: { cause?: unknown; key?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.key = options.key;
    Object.defineProperty(this, brand, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && brand in value;
  }
}

/** Whether `err` is a `StorageError`, optionally with the given `code`. */
export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}

/** The error for a missing object. */
export function notFound(key: string, cause?: unknown): StorageError {
  return new StorageError(StorageErrorCode.NOT_FOUND, `No object under key "${key}"`, {
    key,
    cause,
  });
}

/** Maps an abort reason to a StorageError (timeout vs. caller abort). */
export function abortError(signal: AbortSignal, what: string): StorageError {
  const reason: unknown = signal.reason;
  if (reason instanceof StorageError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new StorageError(StorageErrorCode.TIMEOUT, `${what} timed out: raise \`timeout\``, {
      cause: reason,
    });
  }
  return new StorageError(StorageErrorCode.ABORTED, `${what} was aborted by the caller`, {
    cause: reason,
  });
}
