import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateKey } from '@org/backup-crypto';
import { type Duration, toMs } from '@org/core';
import type { StorageOptions } from '@org/storage';
import { invalidOption } from './errors.js';
import type { JobKind } from './scheduler.js';
import { defaultSchedule, type Schedule } from './worker.js';

/** Everything the worker takes from its environment. */
export interface WorkerEnv {
  databaseUrl: string;
  dataDir: string;
  /** Storage options of each target: the local disk under `dataDir`, or R2 / S3. */
  targets: Record<'r2' | 's3', StorageOptions>;
  /** Whether every target is on the local disk (then missing keys are made for development). */
  localOnly: boolean;
  backupKeys: string[];
  keyring: { redisUrl?: string | undefined; prefix: string; file: string; encryptionKey: string[] };
  keyAlgorithm: 'RS256' | 'ES256' | 'EdDSA' | 'HS256';
  schedule: Schedule;
  health: { port: number; host: string };
  runOnce?: JobKind | undefined;
  force: boolean;
  /** What was made for development (a key file): said once at start. */
  notices: string[];
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** A duration from the environment: `'30d'`, `'250ms'`, or bare milliseconds. */
function duration(
  env: Record<string, string | undefined>,
  name: string,
  fallback: Duration,
): Duration {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : raw;
  if (toMs(value) === undefined || toMs(value) === 0) {
    throw invalidOption(
      `${name} must be a duration such as 30d, 12h, 15m or 500ms; got ${JSON.stringify(raw.slice(0, 20))}`,
    );
  }
  return value as Duration;
}

/** A secret from a file under the data folder, made on first use (0600): for development only. */
function devSecret(path: string, make: () => string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    mkdirSync(resolve(path, '..'), { recursive: true });
    writeFileSync(path, `${make()}\n`, { mode: 0o600, flag: 'wx' });
    return readFileSync(path, 'utf8').trim();
  }
}

function s3Target(
  env: Record<string, string | undefined>,
  p: 'R2' | 'S3',
): StorageOptions['s3'] | undefined {
  const bucket = env[`${p}_BUCKET`]?.trim();
  if (!bucket) return undefined;
  const endpoint = env[`${p}_ENDPOINT`]?.trim() || undefined;
  if (p === 'R2' && !endpoint) {
    throw invalidOption(
      'R2_ENDPOINT must be set with R2_BUCKET: https://<account id>.r2.cloudflarestorage.com',
    );
  }
  const id = env[`${p}_ACCESS_KEY_ID`];
  const secret = env[`${p}_SECRET_ACCESS_KEY`];
  if (Boolean(id) !== Boolean(secret)) {
    throw invalidOption(`Set both ${p}_ACCESS_KEY_ID and ${p}_SECRET_ACCESS_KEY, or neither`);
  }
  return {
    bucket,
    profile: p === 'R2' ? 'r2' : 'aws',
    region: env[`${p}_REGION`]?.trim() || (p === 'R2' ? 'auto' : undefined),
    endpoint,
    forcePathStyle: p === 'S3' && endpoint !== undefined ? true : undefined,
    credentials: id && secret ? { accessKeyId: id, secretAccessKey: secret } : undefined,
  };
}

/**
 * Reads the worker's configuration. Every variable has a default, so that a fresh clone runs
 * with none (local-disk targets under `./data`, the local PostgreSQL); the README lists them all.
 */
export function workerEnv(env: Record<string, string | undefined> = process.env): WorkerEnv {
  const notices: string[] = [];
  const dataDir = resolve(env.DATA_DIR?.trim() || './data');
  const r2 = s3Target(env, 'R2');
  const s3 = s3Target(env, 'S3');
  const targets = {
    r2: r2 ? { s3: r2 } : { local: { root: join(dataDir, 'backups', 'r2') } },
    s3: s3 ? { s3 } : { local: { root: join(dataDir, 'backups', 's3') } },
  };
  const localOnly = !r2 && !s3;

  // The SDK's names (createBackupFromEnv, the backup and backup-crypto CLIs). A deployment still
  // setting the old names would otherwise back up with a development key: refuse instead.
  for (const [was, is] of [
    ['BACKUP_KEY', 'BACKUP_ENCRYPTION_KEY'],
    ['BACKUP_OLD_KEYS', 'BACKUP_ENCRYPTION_OLD_KEYS'],
  ] as const) {
    if (env[was]?.trim() && !env[is]?.trim())
      throw invalidOption(`${was} is no longer read: rename it ${is}`);
  }
  let backupKeys = list(env.BACKUP_ENCRYPTION_KEY);
  if (backupKeys.length === 0) {
    if (!localOnly) {
      throw invalidOption(
        'Set BACKUP_ENCRYPTION_KEY to a Fernet key (npx backup-crypto keygen): backups leave this machine',
      );
    }
    const file = join(dataDir, 'backup.key');
    backupKeys = [devSecret(file, generateKey)];
    notices.push(
      `BACKUP_ENCRYPTION_KEY is not set: backups are encrypted with the development key in ${file}`,
    );
  }
  backupKeys.push(...list(env.BACKUP_ENCRYPTION_OLD_KEYS));

  const redisUrl = env.KEYRING_REDIS_URL?.trim() || undefined;
  const file = resolve(env.KEYRING_FILE?.trim() || join(dataDir, 'keyring.json'));
  let encryptionKey = list(env.KEYRING_ENCRYPTION_KEY);
  if (encryptionKey.length === 0) {
    if (redisUrl)
      throw invalidOption(
        'Set KEYRING_ENCRYPTION_KEY (openssl rand -base64 32) with KEYRING_REDIS_URL',
      );
    const keyFile = join(dataDir, 'keyring.key');
    encryptionKey = [devSecret(keyFile, () => randomBytes(32).toString('base64'))];
    notices.push(
      `KEYRING_ENCRYPTION_KEY is not set: the key ring is sealed with the development key in ${keyFile}`,
    );
  }

  const algorithm = env.KEY_ALGORITHM?.trim() || 'RS256';
  if (!['RS256', 'ES256', 'EdDSA', 'HS256'].includes(algorithm)) {
    throw invalidOption('KEY_ALGORITHM must be RS256, ES256, EdDSA or HS256');
  }
  const runOnce = env.RUN_ONCE?.trim() || undefined;
  if (runOnce !== undefined && !['backup', 'verify', 'rotate'].includes(runOnce)) {
    throw invalidOption('RUN_ONCE must be backup, verify or rotate');
  }
  const port = Number(env.HEALTH_PORT?.trim() || 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalidOption('HEALTH_PORT must be a port number (0 picks a free one)');
  }

  const d = defaultSchedule;
  const schedule: Schedule = {
    backups: d.backups.map((b) => ({
      ...b,
      every: duration(env, `BACKUP_${b.target.toUpperCase()}_EVERY`, b.every),
    })),
    verify: { every: duration(env, 'VERIFY_EVERY', d.verify.every) },
    rotation: {
      every: duration(env, 'KEY_ROTATION_EVERY', d.rotation.every),
      gracePeriod: duration(env, 'KEY_GRACE_PERIOD', d.rotation.gracePeriod),
      stageAhead: duration(env, 'KEY_STAGE_AHEAD', d.rotation.stageAhead),
    },
    timeout: duration(env, 'RUN_TIMEOUT', d.timeout),
    retryAfter: duration(env, 'RETRY_AFTER', d.retryAfter),
  };

  return {
    databaseUrl: env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/test',
    dataDir,
    targets,
    localOnly,
    backupKeys,
    keyring: { redisUrl, prefix: env.KEYRING_PREFIX?.trim() || 'keyring:', file, encryptionKey },
    keyAlgorithm: algorithm as WorkerEnv['keyAlgorithm'],
    schedule,
    health: { port, host: env.HEALTH_HOST?.trim() || '127.0.0.1' },
    runOnce: runOnce as JobKind | undefined,
    force: env.RUN_ONCE_FORCE === 'true' || env.RUN_ONCE_FORCE === '1',
    notices,
  };
}
