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
  /** The backup targets by name (`r2`, `s3`), each an `@org/storage` storage. The first also keeps the schedule's records. */
  targets: Record<string, Storage>;
  /** The Fernet key that encrypts backups, then older keys that backups may have been made with. */
  backupKeys: readonly FernetKey[];
  /** The shared store of the signing-key ring (a file or Redis: API instances read the same one). */
  keyStore: KeyStore;
  /** The at-rest key(s) of the key ring: 32 bytes, hex or base64; every instance has the same. */
  keyringEncryptionKey: string | string[];
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

/** A duration option in ms, or `ERR_WORKER_INVALID_OPTION` naming it. */
function ms(value: Duration, name: string): number {
  try {
    return parseDuration(value, name);
  } catch (err) {
    throw invalidOption((err as Error).message);
  }
}

// #region backup
/** Encrypted `pg_dump` to each target on its own interval; `@org/backup` alerts failed and partial runs. */
function backupJobs(backup: Backup, schedule: Schedule): Job[] {
  return schedule.backups.map(({ target, every }) => ({
    name: `backup-${target}`,
    kind: 'backup',
    everyMs: ms(every, `schedule.backups.${target}.every`),
    alertsOwnFailures: true,
    async run(signal) {
      const result = await backup.run({ targets: [target], signal });
      const { id, durationMs, manifest } = result;
      return { id, target, bytes: manifest.ciphertext.bytes, durationMs };
    },
  }));
}
// #endregion backup

// #region verify
/**
 * The monthly restore test: the newest backup of each target is restored into a scratch
 * database, every table compared with the dump, the database dropped. Retention deletes nothing
 * while a target's newest backup is unverified, so pruning follows a passing test.
 */
function verifyJob(backup: Backup, schedule: Schedule): Job {
  return {
    name: 'verify',
    kind: 'verify',
    everyMs: ms(schedule.verify.every, 'schedule.verify.every'),
    async run(signal) {
      const results: Record<string, unknown> = {};
      const failed: string[] = [];
      let notAlerted: unknown;
      for (const { target } of schedule.backups) {
        try {
          const v = await backup.verify('latest', { target, signal });
          // @org/backup alerted a failed test; the next target is tested all the same.
          if (!v.ok) failed.push(`${target}: ${v.mismatches.join('; ')}`);
          else {
            const [pruned] = await backup.prune({ target, signal });
            results[target] = { id: v.id, tables: v.tables, pruned: pruned?.deleted.length ?? 0 };
          }
        } catch (err) {
          if (signal.aborted) throw err;
          notAlerted ??= err; // no backup to test, a target down: the scheduler alerts it
          failed.push(`${target}: ${describeError(err)}`);
        }
      }
      if (notAlerted !== undefined) throw notAlerted;
      if (failed.length > 0) {
        const message = `The restore test failed on ${failed.join(', ')}`;
        throw new WorkerError(WorkerErrorCode.RunFailed, message);
      }
      return results;
    },
  };
}
// #endregion verify

// #region rotation
/**
 * Rotates the signing-key ring in its shared store: API instances that open the same store (and
 * at-rest key) sign with the new key once it is active, and the old key keeps verifying for the
 * grace period. The next key is published (staged) `stageAhead` before, for JWKS caches.
 */
function rotationJob(ring: KeyRing, schedule: Schedule, clock: Clock) {
  const everyMs = ms(schedule.rotation.every, 'schedule.rotation.every');
  const aheadMs = Math.min(
    ms(schedule.rotation.stageAhead, 'schedule.rotation.stageAhead'),
    everyMs / 2,
  );
  const rotation = createRotationSchedule(ring, { interval: everyMs, stageAhead: aheadMs, clock });
  const job: Job = {
    name: 'rotate',
    kind: 'rotate',
    everyMs,
    earlyMs: 0, // the ring's own schedule decides, to the millisecond
    // Due from the ring, which every instance shares: a restart never rotates twice.
    dueAt() {
      const keys = ring.keys();
      const active = keys.find((k) => k.status === 'active');
      if (!active) return 0;
      const since = (active.activatedAt ?? active.createdAt).getTime();
      const staged = keys.some((k) => k.status === 'pending');
      return since + everyMs - (staged ? 0 : aheadMs);
    },
    async run() {
      const action = await rotation.run();
      const active = ring.keys().find((k) => k.status === 'active');
      return { action: action ?? 'none', activeKid: active?.kid };
    },
  };
  return { rotation, job };
}
// #endregion rotation

// #region health
/**
 * `GET /health`: the database. `GET /health/full`: also the age of the newest verified backup
 * (a warning past the restore-test interval plus a day) and each target.
 */
function workerHealth(
  backup: Backup,
  options: WorkerOptions,
  verifyEveryMs: number,
  clock: Clock,
): Health {
  const backupAge = lastVerifiedBackupCheck({
    lastVerifiedAt: (signal) => backup.lastVerifiedAt({ signal }),
    maxAge: verifyEveryMs + 86_400_000,
    timeout: '5s',
  });
  const targets = Object.entries(options.targets).map(([name, storage]) => [
    `target-${name}`,
    storageCheck(storage, { critical: false, timeout: '5s' }),
  ]);
  return createHealth({
    checks: {
      database: {
        check: databaseCheck(options.databaseUrl),
        timeout: '3s',
        componentType: 'datastore',
      },
      [backupAge.name]: backupAge,
      ...Object.fromEntries(targets),
    },
    quick: ['database'],
    deadline: '6s',
    shutdownDelay: 0, // no load balancer sends work to a worker
    drainTimeout: '2s',
    closerTimeout: '30s', // an aborted run gets 20 s to clean up
    clock,
  });
}
// #endregion health

/** Builds the worker: nothing runs until `scheduler.start()` or `scheduler.runDue()`. */
export async function createWorker(options: WorkerOptions): Promise<Worker> {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('createWorker(options): options must be an object');
  }
  if (typeof options.alerts?.alert !== 'function') {
    throw invalidOption('`alerts` must be an @org/alerts instance (createAlertsFromEnv())');
  }
  const { targets } = options;
  if (typeof targets !== 'object' || targets === null || Object.keys(targets).length === 0) {
    throw invalidOption('`targets` must name the storages: { r2, s3 }');
  }
  const schedule = options.schedule ?? defaultSchedule;
  const clock = options.clock ?? systemClock;
  for (const { target } of schedule.backups) {
    if (!targets[target])
      throw invalidOption(`schedule.backups names "${target}", which is not a target`);
  }
  const timeoutMs = ms(schedule.timeout, 'schedule.timeout');
  const backup = createBackup({
    database: { url: options.databaseUrl },
    targets,
    key: options.backupKeys,
    retention: Object.fromEntries(schedule.backups.map((b) => [b.target, b.retention])),
    timeout: timeoutMs,
    alerts: options.alerts,
    clock,
  });
  const verify = verifyJob(backup, schedule);
  const jobs = [...backupJobs(backup, schedule), verify];
  const retryAfterMs = ms(schedule.retryAfter, 'schedule.retryAfter');
  const ring = await createKeyRing({
    algorithm: options.keyAlgorithm,
    store: options.keyStore,
    encryptionKey: options.keyringEncryptionKey,
    gracePeriod: schedule.rotation.gracePeriod,
    clock,
  });
  try {
    const { rotation, job } = rotationJob(ring, schedule, clock);
    const scheduler = createScheduler({
      jobs: [...jobs, job],
      state: storageState(Object.values(targets)[0]!),
      timeoutMs,
      retryAfterMs,
      alerts: options.alerts,
      log: options.log ?? (() => {}),
      clock,
    });
    const health = workerHealth(backup, options, verify.everyMs, clock);
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
  } catch (err) {
    await ring.close();
    throw err;
  }
}
