import type { Events } from '@org/core';
import { type BackupEvents, createEmitter } from './events.js';
import { type BackupEntry, type ListRequest, listBackups } from './list.js';
import { type BackupOptions, resolveOptions } from './options.js';
import { type PruneRequest, type PruneResult, pruneBackups } from './prune.js';
import {
  type BackupRef,
  type RestoreRequest,
  type RestoreResult,
  restoreBackup,
} from './restore.js';
import { type RunRequest, type RunResult, runBackup } from './run.js';
import { learnVerifiedAt, observeVerifiedAge } from './telemetry.js';
import { type VerifyRequest, type VerifyResult, verifyBackup } from './verify.js';

/** A backup instance: {@link createBackup}. */
export interface Backup extends Events<BackupEvents> {
  /** The database's name: the prefix of its backups on every target. */
  readonly database: string;
  /** Target names, in the order given. */
  readonly targets: readonly string[];
  /**
   * Dumps the database and uploads it, compressed and encrypted, to every target (or
   * `targets`) at once, then writes each manifest. Resolves with `status: 'partial'` (and an
   * alert) when some target failed; rejects (and alerts) when none stored it.
   */
  run(request?: RunRequest): Promise<RunResult>;
  /** Backups on a target, newest first, complete or not. */
  list(request?: ListRequest): Promise<BackupEntry[]>;
  /**
   * Restores `ref` into `to`: every byte is authenticated and checked against the manifest
   * first, then the target is checked (empty, or `force`), then `pg_restore --single-transaction` loads it.
   */
  restore(ref: BackupRef, request: RestoreRequest): Promise<RestoreResult>;
  /** The restore test: restore into a scratch database, compare every table, drop it, keep the result in the manifest. */
  verify(ref?: BackupRef, request?: VerifyRequest): Promise<VerifyResult>;
  /**
   * When the newest passing restore test of a complete backup ended, on `target` (default: the
   * first), or undefined: what `lastVerifiedBackupCheck`'s `lastVerifiedAt` reads.
   */
  lastVerifiedAt(request?: Omit<ListRequest, 'database'>): Promise<Date | undefined>;
  /**
   * The targets due for a backup under `schedule`: those whose newest complete backup is older
   * than their interval less an hour of slack, or that have none; every target without a schedule.
   */
  due(request?: { signal?: AbortSignal | undefined }): Promise<string[]>;
  /** Deletes what retention lets go (`dryRun` to only see the plan). */
  prune(request?: PruneRequest): Promise<PruneResult[]>;
  /**
   * Releases nothing the app gave (the storages stay open); removes listeners and stops reporting
   * this instance's `org.backup.verified.age`. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Encrypted PostgreSQL backups to several storage targets at once.
 *
 * ```ts
 * const backup = createBackup({ database: { url }, targets: { r2, s3 }, key });
 * const result = await backup.run({ tag: 'pre-deploy' });
 * ```
 *
 * @throws BackupError `ERR_BACKUP_INVALID_OPTION` at once for a bad option, `ERR_BACKUP_UNSUPPORTED` for zstd before Node.js 22.15.
 */
export function createBackup(options: BackupOptions): Backup {
  const r = resolveOptions(options);
  const events = createEmitter();
  const stopObserving = observeVerifiedAge(r, r.clock);
  return {
    database: r.db.database,
    targets: [...r.targets.keys()],
    run: (request) => runBackup(r, events, request),
    list: (request) => listBackups(r, request),
    restore: (ref, request) => restoreBackup(r, events, ref, request),
    verify: (ref = 'latest', request) => verifyBackup(r, events, ref, request),
    prune: (request) => pruneBackups(r, request),
    async due(request = {}) {
      const now = r.clock.now();
      const out: string[] = [];
      for (const target of r.targets.keys()) {
        const every = r.schedule.get(target);
        if (every === undefined) {
          out.push(target);
          continue;
        }
        const newest = (await listBackups(r, { target, signal: request.signal })).find(
          (e) => e.status === 'complete',
        );
        // An hour of slack: a daily cron that fires a minute early still backs up.
        if (
          newest === undefined ||
          now - newest.createdAt.getTime() >= every - Math.min(3_600_000, every / 4)
        )
          out.push(target);
      }
      return out;
    },
    async lastVerifiedAt(request) {
      const entries = await listBackups(r, request);
      let newest: Date | undefined;
      for (const e of entries) {
        if (e.status !== 'complete' || e.verifiedAt === undefined) continue;
        if (newest === undefined || e.verifiedAt > newest) newest = e.verifiedAt;
      }
      if (newest !== undefined) {
        const target = request?.target ?? [...r.targets.keys()][0]!;
        learnVerifiedAt(r, r.db.database, target, newest.getTime());
      }
      return newest;
    },
    async close() {
      stopObserving();
      events.clear();
    },
    on: (event, listener) => events.on(event, listener),
    once: (event, listener) => events.once(event, listener),
  };
}
