import { errorGuard, OrgError, optionChecks } from '@org/core';

/**
 * Stable codes of every error this package throws, besides core's `ERR_ABORTED` (the caller's
 * `signal` aborted the call) and `ERR_TIMEOUT` (the call ran past its `timeout`).
 */
export const StorageErrorCode = {
  /** The key breaks the key rules (see `validateKey`); the message says which rule. */
  InvalidKey: 'ERR_STORAGE_INVALID_KEY',
  /** No object under that key. */
  NotFound: 'ERR_STORAGE_NOT_FOUND',
  /** A byte range outside the object, or with `end < start`. */
  InvalidRange: 'ERR_STORAGE_INVALID_RANGE',
  /** Metadata keys or values that S3 would not keep as given. */
  InvalidMetadata: 'ERR_STORAGE_INVALID_METADATA',
  /** An option that cannot work (missing bucket, short signing secret, malformed duration…). */
  InvalidOption: 'ERR_STORAGE_INVALID_OPTION',
  /** The key is both an object and a "folder" of other objects on a file system. */
  KeyConflict: 'ERR_STORAGE_KEY_CONFLICT',
  /** The backend could not be reached, or kept failing after the retries. */
  Unavailable: 'ERR_STORAGE_UNAVAILABLE',
  /** A signed URL whose signature, method or expiry does not hold. */
  InvalidSignature: 'ERR_STORAGE_INVALID_SIGNATURE',
  /** An upload larger than allowed: past a signed-URL handler's `maxUploadBytes`, or past S3's 10,000 parts. */
  TooLarge: 'ERR_STORAGE_TOO_LARGE',
  /**
   * The upload body of a put failed before it ended (the client went away mid-upload, the app's
   * stream errored); `cause` is the body's error, and nothing was stored. Not the backend's fault.
   */
  Body: 'ERR_STORAGE_BODY',
  /** The backend refused the request (access denied, bad request…). */
  Backend: 'ERR_STORAGE_BACKEND',
  /** The driver does not offer this operation. */
  Unsupported: 'ERR_STORAGE_UNSUPPORTED',
} as const;

/** One of the {@link StorageErrorCode} values. */
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

/**
 * The one error class of `@org/storage`, on core's `OrgError`. `code` is stable; `key` names the
 * object when there is one; `cause` carries the backend's error. Match with `isStorageError`,
 * which holds across two copies of the package.
 */
export class StorageError<Code extends StorageErrorCode = StorageErrorCode> extends OrgError<Code> {
  override name = 'StorageError';
  /** The object's key, when the error is about one. */
  readonly key: string | undefined;

  constructor(code: Code, message: string, options: { cause?: unknown; key?: string } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.key = options.key;
  }
}

/** Whether `err` is a `StorageError` (from any copy of the package), optionally with `code`. */
export const isStorageError = errorGuard<StorageError>('ERR_STORAGE_');

/** The option checks of this package: they throw `ERR_STORAGE_INVALID_OPTION`. */
export const check = optionChecks((message) => invalidOption(message));

/** An `ERR_STORAGE_INVALID_OPTION` error with `message`. */
export function invalidOption(
  message: string,
  cause?: unknown,
): StorageError<'ERR_STORAGE_INVALID_OPTION'> {
  return new StorageError(
    StorageErrorCode.InvalidOption,
    message,
    cause === undefined ? {} : { cause },
  );
}

/** The error for a missing object. */
export function notFound(key: string, cause?: unknown): StorageError {
  return new StorageError(StorageErrorCode.NotFound, `No object under key "${key}"`, {
    key,
    cause,
  });
}
