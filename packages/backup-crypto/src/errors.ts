import { errorGuard, OrgError, optionChecks } from '@org/core';

/**
 * Stable codes of every {@link FernetError}; match on these, never on messages. Aborted file
 * operations reject with core's `AbortedError` (`ERR_ABORTED`) and ones past their `timeout`
 * with core's `TimeoutError` (`ERR_TIMEOUT`), shared by every @org package.
 */
export const FernetErrorCode = {
  /** The key is not 32 bytes, or not url-safe base64 of 32 bytes. */
  InvalidKey: 'ERR_FERNET_INVALID_KEY',
  /** The token is malformed, was made with another key, or was altered. */
  InvalidToken: 'ERR_FERNET_INVALID_TOKEN',
  /** The token is authentic but older than the `ttl` the caller allows. */
  TokenExpired: 'ERR_FERNET_TOKEN_EXPIRED',
  /** A chunked backup's chunks are out of order, duplicated, from another backup, or continue after the final chunk. */
  ChunkSequence: 'ERR_FERNET_CHUNK_SEQUENCE',
  /** A chunked backup ends before its final chunk. */
  Truncated: 'ERR_FERNET_TRUNCATED',
  /** An authentic token whose plaintext is not a chunk of the chunked format (wrong magic or version). */
  ChunkFormat: 'ERR_FERNET_CHUNK_FORMAT',
  /** An option is invalid (a `ttl` that is not a duration, an IV that is not 16 bytes …); the message names it. */
  InvalidOption: 'ERR_FERNET_INVALID_OPTION',
  /** An argument cannot be used (an empty key list, data that is neither a string nor bytes …). */
  InvalidArgument: 'ERR_FERNET_INVALID_ARGUMENT',
} as const;

/** One of the {@link FernetErrorCode} values. */
export type FernetErrorCode = (typeof FernetErrorCode)[keyof typeof FernetErrorCode];

/**
 * The one message of every failure to authenticate or decrypt a token. It is the same for a bad
 * MAC, bad padding, bad base64 or a truncated token, so that errors leak nothing an attacker could
 * use to tell those apart.
 */
export const INVALID_TOKEN_MESSAGE =
  'Fernet token could not be verified: it is malformed, was made with another key, or was altered or truncated';

const EXPIRED_MESSAGE =
  'Fernet token is authentic but older than the allowed ttl; raise ttl or omit it to accept it';

/** The one error class of this package, on core's `OrgError`: every failure carries a stable `code`. */
export class FernetError extends OrgError<FernetErrorCode> {
  override name = 'FernetError';
}

/**
 * Whether `err` is a {@link FernetError}, optionally with the given code. Works across two copies
 * of this package (core's registered brand and the `ERR_FERNET_` prefix, not `instanceof`).
 */
export const isFernetError: (err: unknown, code?: FernetErrorCode) => err is FernetError =
  errorGuard<FernetError>('ERR_FERNET_');

/** @internal The generic error for a token that fails verification or decryption. */
export function invalidToken(): FernetError {
  return new FernetError(FernetErrorCode.InvalidToken, INVALID_TOKEN_MESSAGE);
}

/** @internal */
export function tokenExpired(): FernetError {
  return new FernetError(FernetErrorCode.TokenExpired, EXPIRED_MESSAGE);
}

/** @internal */
export function invalidArgument(message: string): FernetError {
  return new FernetError(FernetErrorCode.InvalidArgument, message);
}

/** @internal */
export function invalidOption(message: string): FernetError {
  return new FernetError(FernetErrorCode.InvalidOption, message);
}

/** @internal The package's option checks: each throws `ERR_FERNET_INVALID_OPTION` naming the option. */
export const check = optionChecks(invalidOption);
