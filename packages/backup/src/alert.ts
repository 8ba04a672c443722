import { errorType } from '@org/core';
import type { Resolved } from './options.js';

/** The kinds of alert the engine raises. */
export type BackupAlertKind = 'backup_failed' | 'backup_partial' | 'backup_verify_failed';

/**
 * Raises one alert with a stable fingerprint: kind, database, target(s) and error code. The
 * message carries no backup id (a fingerprint built from it would make every failure a new issue
 * and defeat the throttle); the id goes in the tags and data.
 */
export function raiseAlert(
  r: Resolved,
  kind: BackupAlertKind,
  a: {
    database: string;
    /** The target, or the targets joined by `,` in a stable order. */
    target: string;
    /** The error (its `code` keys the fingerprint), or a code for a failure without one. */
    error: unknown;
    id: string;
    message: string;
    data: Record<string, unknown>;
  },
): void {
  if (r.alerts === undefined) return;
  const code = typeof a.error === 'string' ? a.error : errorType(a.error);
  r.alerts.alert(kind, {
    level: 'error',
    message: a.message,
    fingerprint: ['backup', kind, a.database, a.target, code],
    tags: { database: a.database, target: a.target, error_code: code, backup_id: a.id },
    data: { ...a.data, backupId: a.id },
  });
}
