import type { Alerts } from '@org/alerts';
import {
  type Backup,
  createBackup,
  lastVerifiedBackupCheck,
  type RetentionPolicy,
} from '@org/backup';
import type { FernetKey } from '@org/backup-crypto';
import { type Clock, type Duration, describeError, parseDuration, systemClock } from '@org/core';
import { createHealth, type Health, storageCheck } from '@org/health';
import {
  type Algorithm,
  createKeyRing,
  createRotationSchedule,
  type KeyRing,
  type KeyStore,
  type RotationSchedule,
} from '@org/key-rotation';
import type { Storage } from '@org/storage';
import { databaseCheck } from './database-check.js';
import { invalidOption, WorkerError, WorkerErrorCode } from './errors.js';
import { createScheduler, type Job, type Scheduler } from './scheduler.js';
import { storageState } from './state.js';

// #region schedule
/** What runs and how often, as data: edit it, or override its intervals from the environment. */
export interface Schedule {
  /** One backup schedule per target: how often, and what the target keeps (GFS rules). */
  backups: { target: string; every: Duration; retention: RetentionPolicy }[];
  /** The restore test of the newest backup of each target; pruning follows a passing test. */
  verify: { every: Duration };
  /** Key rotation: a new signing key every `every`, staged `stageAhead` before; the old one verifies for `gracePeriod`. */
  rotation: { every: Duration; gracePeriod: Duration; stageAhead: Duration };
  /** Bound of each run. */
  timeout: Duration;
  /** Wait after a failed run before trying again (at most the job's interval). */
  retryAfter: Duration;
}

/** The usual: R2 daily kept 30 days, S3 weekly kept 14 days, a restore test monthly, keys every 30 days. */
export const defaultSchedule: Schedule = {
  backups: [
    { target: 'r2', every: '1d', retention: { daily: 30 } },
    { target: 's3', every: '7d', retention: { weekly: 2 } },
  ],
  verify: { every: '30d' },
  rotation: { every: '30d', gracePeriod: '7d', stageAhead: '1d' },
  timeout: '2h',
  retryAfter: '1h',
};
// #endregion schedule

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  /** The database to back up: `postgres://user:password@host:5432/dbname`. */
  databaseUrl: string;
  /** The backup targets by name (`r2`, `s3`), each an `@org/storage` storage. */
  targets: Record<string, Storage>;
  /** The Fernet key that encrypts backups, then older keys that backups may have been made with. */
  backupKeys: readonly FernetKey[];
  /** The shared store of the signing-key ring (a file or Redis: API instances read the same one). */
  keyStore: KeyStore;
  /** The at-rest key(s) of the key ring: 32 bytes, hex or base64; every instance has the same. */
  keyringEncryptionKey: string | readonly string[];
  /** Algorithm of new signing keys. @default 'RS256' */
  keyAlgorithm?: Algorithm | undefined;
  /** @default defaultSchedule */
  schedule?: Schedule | undefined;
  /** Failed and partial runs are alerted here. */
  alerts: Alerts;
  /** One structured log line. @default none */
  log?: ((event: string, fields: Record<string, unknown>) => void) | undefined;
  clock?: Clock | undefined;
}

/** The worker: its parts, its schedule, and `close()`. */
export interface Worker {
  readonly backup: Backup;
  readonly ring: KeyRing;
  readonly rotation: RotationSchedule;
  readonly health: Health;
  readonly scheduler: Scheduler;
  /** Stops the schedule (aborting a run under way), then closes the ring and the backup. Idempotent. */
  close(): Promise<void>;
}

/** Builds the worker: nothing runs until `scheduler.start()` or `scheduler.runDue()`. */
export async function createWorker(options: WorkerOptions): Promise<Worker> {
  const schedule = options.schedule ?? defaultSchedule;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => {});
  const ms = (value: Duration, name: string) => {
    try {
      return parseDuration(value, name);
    } catch (err) {
      throw invalidOption((err as Error).message);
    }
  };
  const timeoutMs = ms(schedule.timeout, 'schedule.timeout');
  for (const { target } of schedule.backups) {
    if (!options.targets[target])
      throw invalidOption(`schedule.backups names the target "${target}", which is not configured`);
  }

  // #region backup
  // Encrypted pg_dump to each target; partial and failed runs alert through @org/alerts.
  const backup = createBackup({
    database: { url: options.databaseUrl },
    targets: options.targets,
    key: options.backupKeys,
    retention: Object.fromEntries(schedule.backups.map((b) => [b.target, b.retention])),
    timeout: timeoutMs,
    alerts: options.alerts,
    clock,
  });
  const backupJobs: Job[] = schedule.backups.map(({ target, every }) => ({
    name: `backup-${target}`,
    kind: 'backup',
    everyMs: ms(every, `schedule.backups.${target}.every`),
    alertsOwnFailures: true,
    async run(signal) {
      const result = await backup.run({ targets: [target], signal });
      return {
        id: result.id,
        target,
        bytes: result.manifest.ciphertext.bytes,
        durationMs: result.durationMs,
      };
    },
  }));
  // #endregion backup

  // #region verify
  // The monthly restore test: restore the newest backup of each target into a scratch database,
  // compare every table with the dump, drop it. Retention only deletes once the newest backup
  // passed this test, so pruning follows it.
  const verifyJob: Job = {
    name: 'verify',
    kind: 'verify',
    everyMs: ms(schedule.verify.every, 'schedule.verify.every'),
    async run(signal) {
      const results: Record<string, unknown> = {};
      const failed: string[] = [];
      let unalerted: unknown;
      for (const { target } of schedule.backups) {
        try {
          const v = await backup.verify('latest', { target, signal });
          // A failed test was alerted by @org/backup; the targets after it are still tested.
          if (!v.ok) failed.push(`${target}: ${v.mismatches.join('; ')}`);
          else {
            const [pruned] = await backup.prune({ target, signal });
            results[target] = { id: v.id, tables: v.tables, pruned: pruned?.deleted.length ?? 0 };
          }
        } catch (err) {
          if (signal.aborted) throw err;
          unalerted ??= err;
          failed.push(`${target}: ${describeError(err)}`);
        }
      }
      if (unalerted !== undefined) throw unalerted;
      if (failed.length > 0) {
        throw new WorkerError(
          WorkerErrorCode.RunFailed,
          `The restore test failed on ${failed.join(', ')}`,
        );
      }
      return results;
    },
  };
  // #endregion verify

  // #region rotation
  // The ring lives in a shared store: API instances that open the same store (and at-rest key)
  // sign with the new key as soon as it is active, and keep verifying the old one for the grace period.
  const ring = await createKeyRing({
    algorithm: options.keyAlgorithm,
    store: options.keyStore,
    encryptionKey: options.keyringEncryptionKey as string | string[],
    gracePeriod: schedule.rotation.gracePeriod,
    clock,
  });
  const rotateEveryMs = ms(schedule.rotation.every, 'schedule.rotation.every');
  const stageAheadMs = Math.min(
    ms(schedule.rotation.stageAhead, 'schedule.rotation.stageAhead'),
    rotateEveryMs / 2,
  );
  const rotation = createRotationSchedule(ring, {
    interval: rotateEveryMs,
    stageAhead: stageAheadMs,
    clock,
  });
  const rotateJob: Job = {
    name: 'rotate',
    kind: 'rotate',
    everyMs: rotateEveryMs,
    earlyMs: 0, // the ring's own schedule decides, to the millisecond
    // Due from the ring itself, which every instance shares: a restart never rotates twice.
    dueAt() {
      const keys = ring.keys();
      const active = keys.find((k) => k.status === 'active');
      if (!active) return 0;
      const since = (active.activatedAt ?? active.createdAt).getTime();
      const staged = keys.some((k) => k.status === 'pending');
      return since + rotateEveryMs - (staged ? 0 : stageAheadMs);
    },
    async run() {
      const action = await rotation.run();
      const active = ring.keys().find((k) => k.status === 'active');
      return { action: action ?? 'none', activeKid: active?.kid };
    },
  };
  // #endregion rotation

  const scheduler = createScheduler({
    jobs: [...backupJobs, verifyJob, rotateJob],
    state: storageState(Object.values(options.targets)[0]!),
    timeoutMs,
    retryAfterMs: ms(schedule.retryAfter, 'schedule.retryAfter'),
    alerts: options.alerts,
    log,
    clock,
  });

  // #region health
  // GET /health: the database; GET /health/full: also the age of the newest verified backup
  // (warns past the restore-test interval plus a day) and every target.
  const backupAge = lastVerifiedBackupCheck({
    lastVerifiedAt: (signal) => backup.lastVerifiedAt({ signal }),
    maxAge: verifyJob.everyMs + 86_400_000,
    timeout: '5s',
  });
  const health = createHealth({
    checks: {
      database: {
        check: databaseCheck(options.databaseUrl),
        timeout: '3s',
        componentType: 'datastore',
      },
      [backupAge.name]: backupAge,
      ...Object.fromEntries(
        Object.entries(options.targets).map(([name, storage]) => [
          `target-${name}`,
          storageCheck(storage, { critical: false, timeout: '5s' }),
        ]),
      ),
    },
    quick: ['database'],
    deadline: '6s',
    shutdownDelay: 0,
    drainTimeout: '2s',
    closerTimeout: '30s', // an aborted run gets 20 s to clean up
    clock,
  });
  // #endregion health

  let closed: Promise<void> | undefined;
  return {
    backup,
    ring,
    rotation,
    health,
    scheduler,
    close: () => {
      closed ??= (async () => {
        await scheduler.close();
        await rotation.close();
        await ring.close();
        await backup.close();
        await health.close();
      })();
      return closed;
    },
  };
}
