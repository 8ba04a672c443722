import type { Backup } from './backup.js';
import { BackupError, BackupErrorCode } from './errors.js';
import type { RunResult } from './run.js';

/**
 * The `run` callback of `createBackupTrigger` for a backup: the request's `target` (`all` or
 * none: every target) and `tag` go to `backup.run`, and a partial run rejects with
 * `ERR_BACKUP_PARTIAL` (naming the failed targets), so the trigger's status reads `failed`.
 *
 * ```ts
 * const trigger = createBackupTrigger({ token, run: runForTrigger(backup), targets: [...backup.targets, 'all'] });
 * ```
 */
export function runForTrigger(backup: Pick<Backup, 'run'>) {
  return async (request: {
    target?: string | undefined;
    tag?: string | undefined;
    signal: AbortSignal;
  }): Promise<RunResult> => {
    const target =
      request.target === undefined || request.target === 'all' ? undefined : [request.target];
    const result = await backup.run({ targets: target, tag: request.tag, signal: request.signal });
    if (result.status !== 'complete') {
      const failed = Object.entries(result.targets)
        .filter(([, t]) => t.status === 'failed')
        .map(([n, t]) => `${n} (${t.error ?? 'failed'})`);
      throw new BackupError(
        BackupErrorCode.Partial,
        `Backup ${result.id} is partial: ${failed.join(', ')} failed; the other targets hold it`,
      );
    }
    return result;
  };
}
