import { setMaxListeners } from 'node:events';
import type { FernetKey } from '@org/backup-crypto';
import { type Clock, type Duration, optionChecks, systemClock } from '@org/core';
import type { Storage } from '@org/storage';
import { BackupError, BackupErrorCode, invalidOption } from './errors.js';
import { type KeyRing, keyRing } from './keys.js';
import type { Compression } from './manifest.js';
import { type DbTarget, dbTarget } from './pg.js';
import type { RetentionPolicy } from './retention.js';
import { zstdAvailable } from './streams.js';

/** The option checks of this package: each throws ERR_BACKUP_INVALID_OPTION naming the option. */
export const check = optionChecks((m) => invalidOption(m));

/**
 * What a backup target must offer: the part of `@org/storage`'s `Storage` this package uses, so
 * a storage scoped with `namespace()`, or any object of the same shape, fits.
 */
export type BackupTarget = Pick<
  Storage,
  'put' | 'getStream' | 'getBuffer' | 'list' | 'delete' | 'deleteMany'
>;

/** Where alerts go: `@org/alerts`' `Alerts` fits, as does any object with this method. */
export interface AlertSink {
  alert(
    kind: string,
    details: {
      message: string;
      level: 'error' | 'warning';
      tags: Record<string, string>;
      data: Record<string, unknown>;
      /** Groups the alert (Sentry issue, throttle): kind, database, target, error code. */
      fingerprint: readonly string[];
    },
  ): unknown;
}

/** Options of {@link createBackup}. */
export interface BackupOptions {
  /** The database to back up. */
  database: {
    /** `postgres://user:password@host:port/dbname`. The password reaches the tools in a password file of mode 0600, never in their arguments. */
    url: string;
    /** Path of `pg_dump`. @default "pg_dump" (from PATH) */
    pgDump?: string | undefined;
    /** Path of `pg_restore`. @default "pg_restore" */
    pgRestore?: string | undefined;
    /** Path of `psql` (plain SQL legacy dumps). @default "psql" */
    psql?: string | undefined;
  };
  /** The targets by name (`{ r2: storageA, s3: storageB }`): each an `@org/storage` `Storage`. */
  targets: Record<string, BackupTarget>;
  /**
   * The Fernet key, or several (the current one first, then old ones backups may have been
   * made with). Only the first encrypts. Never logged; errors name keys by their key id.
   */
  key: FernetKey | readonly FernetKey[];
  /** Compression between `pg_dump` and encryption; `zstd` needs Node.js 22.15+. @default 'gzip' */
  compression?: Compression | undefined;
  /** Compression level (gzip 1–9, zstd 1–19). @default 3 */
  compressionLevel?: number | undefined;
  /** Take per-table row counts and checksums in the dump's snapshot (read every row once more). @default true */
  tableChecksums?: boolean | undefined;
  /** Retention per target, for `prune` (keep-last-N plus daily/weekly/monthly). @default none: prune keeps everything */
  retention?: Record<string, RetentionPolicy> | undefined;
  /**
   * Schedules as data: how often each target wants a backup (`{ r2: '1d', s3: '7d' }`). `due()`
   * names the targets whose newest complete backup is older than that (less 1 hour of slack for
   * a scheduler's jitter), and `backup run --due` backs up those only. @default none: every target is always due
   */
  schedule?: Record<string, Duration> | undefined;
  /** Time zone for the daily/weekly/monthly buckets of retention. @default 'UTC' */
  timeZone?: string | undefined;
  /** Bound of a whole `run`, `restore` or `verify`. @default '6h' */
  timeout?: Duration | undefined;
  /** Partial and failed runs are alerted here (`@org/alerts` fits). @default none */
  alerts?: AlertSink | undefined;
  /** The clock for ids, `createdAt` and durations. @default systemClock */
  clock?: Clock | undefined;
}

/** @internal Options after validation. */
export interface Resolved {
  db: DbTarget;
  pgDump: string;
  pgRestore: string;
  psql: string;
  targets: Map<string, BackupTarget>;
  ring: KeyRing;
  compression: Compression;
  level: number;
  tableChecksums: boolean;
  retention: Record<string, RetentionPolicy>;
  /** Interval per target, in milliseconds. */
  schedule: Map<string, number>;
  timeZone: string;
  timeoutMs: number;
  alerts: AlertSink | undefined;
  clock: Clock;
}

const TARGET_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** @internal Validates the options of createBackup. */
export function resolveOptions(options: BackupOptions): Resolved {
  const o = check.object(options, 'options');
  const database = check.object(o.database, 'database');
  const db = dbTarget(database.url, 'database.url');
  if (typeof o.targets !== 'object' || o.targets === null) {
    throw invalidOption(
      '`targets` must be an object of named storages: { r2: storage, s3: storage }',
    );
  }
  const targets = new Map<string, BackupTarget>();
  for (const [name, t] of Object.entries(o.targets)) {
    if (!TARGET_NAME.test(name)) {
      throw invalidOption(
        `target name ${JSON.stringify(name).slice(0, 40)} must be 1-32 of a-z 0-9 _ -`,
      );
    }
    if (typeof (t as Partial<BackupTarget>)?.put !== 'function' || typeof t.list !== 'function') {
      throw invalidOption(`\`targets.${name}\` must be an @org/storage Storage`);
    }
    targets.set(name, t);
  }
  if (targets.size === 0) throw invalidOption('`targets` must name at least one storage');
  const compression = check.oneOf(o.compression, 'compression', ['gzip', 'zstd', 'none'], 'gzip');
  if (compression === 'zstd' && !zstdAvailable()) {
    throw new BackupError(
      BackupErrorCode.Unsupported,
      `compression 'zstd' needs Node.js 22.15 or later (this is ${process.version}): use 'gzip'`,
    );
  }
  const level = check.integer(o.compressionLevel, 'compressionLevel', 3, {
    min: 1,
    max: compression === 'zstd' ? 19 : 9,
  });
  const retention = o.retention ?? {};
  for (const name of Object.keys(retention)) {
    if (!targets.has(name)) throw invalidOption(`\`retention.${name}\` names no target`);
  }
  const schedule = new Map<string, number>();
  for (const [name, every] of Object.entries(o.schedule ?? {})) {
    if (!targets.has(name)) throw invalidOption(`\`schedule.${name}\` names no target`);
    schedule.set(name, check.duration(every, `schedule.${name}`, undefined, { min: 60_000 })!);
  }
  const clock = o.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw invalidOption('`clock` must have a now() method');
  if (o.alerts !== undefined && typeof o.alerts?.alert !== 'function') {
    throw invalidOption('`alerts` must have an alert(kind, details) method (@org/alerts fits)');
  }
  return {
    db,
    pgDump: check.string(database.pgDump, 'database.pgDump', 'pg_dump'),
    pgRestore: check.string(database.pgRestore, 'database.pgRestore', 'pg_restore'),
    psql: check.string(database.psql, 'database.psql', 'psql'),
    targets,
    ring: keyRing(o.key),
    compression,
    level,
    tableChecksums: check.boolean(o.tableChecksums, 'tableChecksums', true),
    retention,
    schedule,
    timeZone: check.string(o.timeZone, 'timeZone', 'UTC'),
    timeoutMs: check.duration(o.timeout, 'timeout', '6h', { min: 1 }),
    alerts: o.alerts,
    clock,
  };
}

/** @internal The target named `name`, or ERR_BACKUP_INVALID_OPTION listing the known ones. */
export function targetNamed(r: Resolved, name: string): BackupTarget {
  const t = r.targets.get(name);
  if (!t) {
    throw invalidOption(
      `Unknown target ${JSON.stringify(name).slice(0, 40)}: use one of ${[...r.targets.keys()].join(', ')}`,
    );
  }
  return t;
}

/** @internal Drains a readable into nothing. */
export async function drain(source: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of source);
}

/**
 * @internal The signal of one whole operation, which many concurrent storage calls and stream
 * stages listen to at once (eight manifest reads, a pipeline's stages): past Node's default
 * of 10 listeners it warns of a leak that is not one.
 */
export function roomy(signal: AbortSignal): AbortSignal {
  setMaxListeners(64, signal);
  return signal;
}
