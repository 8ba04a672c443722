import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Duration } from '@org/core';
import { createStorage, type Storage } from '@org/storage';
import { type Backup, createBackup } from './backup.js';
import { invalidOption } from './errors.js';
import type { AlertSink } from './options.js';
import type { RetentionPolicy } from './retention.js';

/** One target as data: where it is, and its retention. Credentials never go in the file. */
export interface TargetConfig {
  /** S3 or R2 (`profile: 'r2'`). Credentials come from the env variables named here, or the AWS SDK's chain. */
  s3?: {
    bucket: string;
    endpoint?: string;
    region?: string;
    profile?: 'aws' | 'r2';
    forcePathStyle?: boolean;
    /** Name of the env variable holding the access key id. @default the AWS SDK's provider chain */
    accessKeyIdEnv?: string;
    /** Name of the env variable holding the secret access key. */
    secretAccessKeyEnv?: string;
  };
  /** The local disk. */
  local?: { root: string };
  /** Key prefix inside the bucket or folder (one segment). @default none */
  prefix?: string;
  /** Retention of this target (keep-last-N plus daily/weekly/monthly). @default none */
  retention?: RetentionPolicy;
  /** How often this target wants a backup (`'1d'`, `'7d'`), for `backup run --due`. @default always due */
  schedule?: Duration;
}

/** The config file (`backup.config.json`): every field optional. */
export interface BackupConfig {
  database?: { url?: string; pgDump?: string; pgRestore?: string; psql?: string };
  /** Targets by name. @default { local: { local: { root: BACKUP_DIR or './backups' } } } */
  targets?: Record<string, TargetConfig>;
  compression?: 'gzip' | 'zstd' | 'none';
  compressionLevel?: number;
  tableChecksums?: boolean;
  timeZone?: string;
  timeout?: Duration;
}

/** What {@link createBackupFromEnv} built: the backup and the storages it owns. */
export interface BackupFromEnv {
  backup: Backup;
  config: BackupConfig;
  /** Closes the backup and the storages made from the config. */
  close(): Promise<void>;
}

/** Reads a config file; a missing default file is an empty config. */
export function readBackupConfig(path: string | undefined): BackupConfig {
  const file = resolve(path ?? 'backup.config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (path === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw invalidOption(`Cannot read the config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw invalidOption(`The config file ${file} is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidOption(`The config file ${file} must hold a JSON object`);
  }
  return parsed as BackupConfig;
}

function storageFor(
  name: string,
  t: TargetConfig,
  env: Record<string, string | undefined>,
): Storage {
  if (typeof t !== 'object' || t === null) throw invalidOption(`targets.${name} must be an object`);
  let storage: Storage;
  if (t.s3 !== undefined) {
    const { accessKeyIdEnv, secretAccessKeyEnv, ...s3 } = t.s3;
    let credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
    if (accessKeyIdEnv !== undefined || secretAccessKeyEnv !== undefined) {
      const accessKeyId = env[accessKeyIdEnv ?? ''];
      const secretAccessKey = env[secretAccessKeyEnv ?? ''];
      if (!accessKeyId || !secretAccessKey) {
        throw invalidOption(
          `targets.${name}: set ${accessKeyIdEnv} and ${secretAccessKeyEnv} in the environment`,
        );
      }
      credentials = { accessKeyId, secretAccessKey };
    }
    storage = createStorage({ s3: { ...s3, ...(credentials ? { credentials } : {}) } });
  } else if (t.local !== undefined) {
    storage = createStorage({ local: { root: t.local.root } });
  } else {
    throw invalidOption(`targets.${name} needs "s3" or "local"`);
  }
  return t.prefix === undefined ? storage : storage.namespace(t.prefix);
}

/**
 * Builds a backup from a config file and the environment: what the `backup` CLI runs. It reads
 * these variables, and no others:
 * - `BACKUP_CONFIG`: the config file (default `./backup.config.json`, optional);
 * - `DATABASE_URL`: the database, when the file does not give `database.url`;
 * - `BACKUP_ENCRYPTION_KEY`: the Fernet key (required);
 * - `BACKUP_ENCRYPTION_OLD_KEYS`: older keys, comma-separated, that backups may have been made with;
 * - `BACKUP_DIR`: the folder of the default `local` target (default `./backups`), when the file names no targets;
 * - the variables each S3 target names in `accessKeyIdEnv` / `secretAccessKeyEnv`.
 */
export function createBackupFromEnv(
  env: Record<string, string | undefined> = process.env,
  overrides: { configPath?: string | undefined; alerts?: AlertSink | undefined } = {},
): BackupFromEnv {
  const config = readBackupConfig(overrides.configPath ?? env.BACKUP_CONFIG);
  const url = config.database?.url ?? env.DATABASE_URL;
  if (!url)
    throw invalidOption(
      'Set DATABASE_URL (postgres://user@host:5432/dbname) or database.url in the config file',
    );
  const key = env.BACKUP_ENCRYPTION_KEY?.trim();
  if (!key) throw invalidOption('Set BACKUP_ENCRYPTION_KEY to a Fernet key (backup-crypto keygen)');
  const old = (env.BACKUP_ENCRYPTION_OLD_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const targets = config.targets ?? { local: { local: { root: env.BACKUP_DIR || './backups' } } };
  const storages: Storage[] = [];
  const retention: Record<string, RetentionPolicy> = {};
  const schedule: Record<string, Duration> = {};
  for (const [name, t] of Object.entries(targets)) {
    storages.push(storageFor(name, t, env));
    if (t.retention !== undefined) retention[name] = t.retention;
    if (t.schedule !== undefined) schedule[name] = t.schedule;
  }
  const close = async () => {
    for (const s of storages) await s.close().catch(() => {});
  };
  try {
    const backup = createBackup({
      database: { ...config.database, url },
      targets: Object.fromEntries(Object.keys(targets).map((n, i) => [n, storages[i]!])),
      key: [key, ...old],
      compression: config.compression,
      compressionLevel: config.compressionLevel,
      tableChecksums: config.tableChecksums,
      timeZone: config.timeZone,
      timeout: config.timeout,
      retention,
      schedule,
      alerts: overrides.alerts,
    });
    return {
      backup,
      config,
      close: async () => {
        await backup.close();
        await close();
      },
    };
  } catch (err) {
    void close();
    throw err;
  }
}
