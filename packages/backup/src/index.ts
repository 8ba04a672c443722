export { type Backup, createBackup } from './backup.js';
export {
  type BackupConfig,
  type BackupFromEnv,
  createBackupFromEnv,
  readBackupConfig,
  type TargetConfig,
} from './config.js';
export { BackupError, BackupErrorCode, isBackupError } from './errors.js';
export type { BackupEvents } from './events.js';
export {
  type BackupAgeOutcome,
  type BackupHealthCheck,
  type LastVerifiedBackupCheckOptions,
  lastVerifiedBackupCheck,
} from './health-check.js';
export { keyId } from './keys.js';
export type { BackupEntry, ListRequest } from './list.js';
export type { BackupFormat, Compression, Manifest, Verification } from './manifest.js';
export type { AlertSink, BackupOptions, BackupTarget } from './options.js';
export type { TableStat } from './pg.js';
export { type PruneRequest, type PruneResult, retentionEntry } from './prune.js';
export type { BackupRef, RestoreRequest, RestoreResult } from './restore.js';
export {
  checkRetentionPolicy,
  type PlanRetentionOptions,
  planRetention,
  type RetentionEntry,
  type RetentionPlan,
  type RetentionPolicy,
} from './retention.js';
export type { RunRequest, RunResult, TargetResult } from './run.js';
export {
  type BackupRunRequest,
  type BackupRunState,
  type BackupTrigger,
  type BackupTriggerOptions,
  createBackupTrigger,
} from './trigger.js';
export { runForTrigger } from './trigger-run.js';
export { compareTables, type VerifyRequest, type VerifyResult } from './verify.js';
