/** The packages held to the contract, with the prefix and codes object CONTRIBUTING.md gives each. */
export interface ContractPackage {
  /** Folder under packages/. */
  dir: string;
  /** Code prefix without `ERR_` and the trailing `_`. */
  prefix: string;
  /** Name of the exported codes object. */
  codes: string;
  /** Name of the exported guard (core's is `isOrgError`). */
  guard: string;
}

export const PACKAGES: readonly ContractPackage[] = [
  { dir: 'core', prefix: 'CORE', codes: 'CoreErrorCode', guard: 'isOrgError' },
  {
    dir: 'resilience',
    prefix: 'RESILIENCE',
    codes: 'ResilienceErrorCode',
    guard: 'isResilienceError',
  },
  { dir: 'cache', prefix: 'CACHE', codes: 'CacheErrorCode', guard: 'isCacheError' },
  { dir: 'storage', prefix: 'STORAGE', codes: 'StorageErrorCode', guard: 'isStorageError' },
  { dir: 'health', prefix: 'HEALTH', codes: 'HealthErrorCode', guard: 'isHealthError' },
  {
    dir: 'key-rotation',
    prefix: 'KEY_ROTATION',
    codes: 'KeyRotationErrorCode',
    guard: 'isKeyRotationError',
  },
  { dir: 'backup-crypto', prefix: 'FERNET', codes: 'FernetErrorCode', guard: 'isFernetError' },
  { dir: 'secrets', prefix: 'SECRETS', codes: 'SecretsErrorCode', guard: 'isSecretsError' },
  {
    dir: 'rate-limit',
    prefix: 'RATE_LIMIT',
    codes: 'RateLimitErrorCode',
    guard: 'isRateLimitError',
  },
  { dir: 'alerts', prefix: 'ALERTS', codes: 'AlertsErrorCode', guard: 'isAlertsError' },
  { dir: 'backup', prefix: 'BACKUP', codes: 'BackupErrorCode', guard: 'isBackupError' },
];

/** Prefixes reserved for the packages to come: none may start another. */
export const RESERVED_PREFIXES: readonly string[] = [];

/** Codes every package may throw besides its own: core's abort and timeout. */
export const SHARED_CODES = ['ERR_ABORTED', 'ERR_TIMEOUT'];
