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
  /** `pg_dump` (or the snapshot query beside it) failed, or the database could not be reached; its stderr or the connection's error is in the message. Nothing was stored as complete. */
  DumpFailed: 'ERR_BACKUP_DUMP_FAILED',
  /** Some targets stored the backup and some did not (from `runForTrigger`, where a partial run must read as failed). */
  Partial: 'ERR_BACKUP_PARTIAL',
  /** No target stored the backup: every upload failed. */
  UploadFailed: 'ERR_BACKUP_UPLOAD_FAILED',
  /** No backup with that id (or no complete backup for `latest`) on the target. */
  NotFound: 'ERR_BACKUP_NOT_FOUND',
  /** A manifest that cannot be read as one of this package (altered, or not a manifest). */
  InvalidManifest: 'ERR_BACKUP_INVALID_MANIFEST',
  /** The backup was encrypted with a key that is not configured; the message names its key id. */
  KeyMissing: 'ERR_BACKUP_KEY_MISSING',
  /** The stored bytes do not match the manifest (tampered, truncated or altered): refused before the target was touched. */
  Integrity: 'ERR_BACKUP_INTEGRITY',
  /** The restore target holds tables already; pass `force` to restore over them. */
  TargetNotEmpty: 'ERR_BACKUP_TARGET_NOT_EMPTY',
  /** `pg_restore` (or `psql` for a plain legacy dump) failed, or the database restored into could not be reached; its stderr or the connection's error is in the message. */
  RestoreFailed: 'ERR_BACKUP_RESTORE_FAILED',
  /** The compression asked for is not available on this Node.js (zstd needs 22.15 or later). */
  Unsupported: 'ERR_BACKUP_UNSUPPORTED',
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
