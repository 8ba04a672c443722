import { errorGuard, OrgError } from '@org/core';

/**
 * Stable codes of every error this package throws, besides core's `ERR_ABORTED` (the caller's
 * `signal` aborted the call) and `ERR_TIMEOUT` (a step ran past its timeout).
 */
export const BackupErrorCode = {
  /** An option that cannot work (a malformed duration, an unknown target, a short token…). */
  InvalidOption: 'ERR_BACKUP_INVALID_OPTION',
  /** A retention policy that keeps nothing or has a rule that is not a non-negative integer. */
  RetentionPolicy: 'ERR_BACKUP_RETENTION_POLICY',
} as const;

/** One of the {@link BackupErrorCode} values. */
export type BackupErrorCode = (typeof BackupErrorCode)[keyof typeof BackupErrorCode];

/**
 * The one error class of `@org/backup`, on core's `OrgError`; `cause` carries the underlying
 * error. Match with `isBackupError`, which holds across two copies of the package.
 */
export class BackupError<Code extends BackupErrorCode = BackupErrorCode> extends OrgError<Code> {
  override name = 'BackupError';
}

/** Whether `err` is a `BackupError` (from any copy of the package), optionally with `code`. */
export const isBackupError = errorGuard<BackupError>('ERR_BACKUP_');

/** An `ERR_BACKUP_INVALID_OPTION` error with `message`. */
export function invalidOption(message: string, cause?: unknown): BackupError {
  return new BackupError(
    BackupErrorCode.InvalidOption,
    message,
    cause === undefined ? undefined : { cause },
  );
}
