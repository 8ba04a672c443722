import { randomBytes } from 'node:crypto';
import { BackupError, BackupErrorCode } from './errors.js';
import type { TableStat } from './pg.js';

/** How the backup object is laid out. */
export type BackupFormat =
  /** `pg_dump -Fc` → compression → the chunked Fernet format of `@org/backup-crypto`. */
  | 'pg-custom+chunked-fernet'
  /** One Fernet token over a whole dump file, as apps' Python `decrypt_backup` scripts read. */
  | 'legacy-fernet';

/** Compression between `pg_dump` and encryption. */
export type Compression = 'gzip' | 'zstd' | 'none';

/** The result of a restore test, kept in the manifest. */
export interface Verification {
  /** ISO time the test ended. Set only when every table matched. */
  verifiedAt?: string | undefined;
  ok: boolean;
  durationMs: number;
  /** Tables whose row count or checksum differed (empty when `ok`). */
  mismatches: string[];
  /** Why the test failed, when it failed before comparing. */
  error?: string | undefined;
}

/** What is stored beside each backup, once its data object is complete. */
export interface Manifest {
  /** Always 1 for this layout. */
  version: 1;
  id: string;
  database: string;
  /** ISO time the dump started. */
  createdAt: string;
  tag?: string | undefined;
  format: BackupFormat;
  compression: Compression;
  /** Key id (first 8 hex digits of the SHA-256 of the key) that encrypted it. */
  keyId: string;
  /** The `pg_dump` output. */
  plaintext: { sha256: string; bytes: number };
  /** The stored object. */
  ciphertext: { sha256: string; bytes: number };
  serverVersion: string;
  pgDumpVersion: string;
  durationMs: number;
  /** Per-table row counts and checksums, taken in the dump's snapshot. */
  tables: TableStat[];
  /** Storage key of the data object, relative to the target. */
  object: string;
  /** The latest restore test of this backup. */
  verification?: Verification | undefined;
}

/** A sortable id: the UTC time to the second, then 6 random hex digits. */
export function newBackupId(now: number): string {
  const iso = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${iso}-${randomBytes(3).toString('hex')}`;
}

const ID_RE = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

/** Whether `id` has the form of {@link newBackupId}. */
export const isBackupId = (id: string): boolean => ID_RE.test(id);

/** Storage key of the data object of backup `id` of `database`. */
export const dataKey = (database: string, id: string) => `${database}/${id}.backup`;
/** Storage key of the manifest of backup `id` of `database`. */
export const manifestKey = (database: string, id: string) => `${database}/${id}.manifest.json`;

/** Where a listed key belongs: the backup id and whether it is the data or the manifest. */
export function parseKey(key: string): { id: string; kind: 'data' | 'manifest' } | undefined {
  const slash = key.lastIndexOf('/');
  const name = key.slice(slash + 1);
  const m = /^(.+)\.(backup|manifest\.json)$/.exec(name);
  if (!m || !isBackupId(m[1]!)) return undefined;
  return { id: m[1]!, kind: m[2] === 'backup' ? 'data' : 'manifest' };
}

const bad = (why: string) =>
  new BackupError(
    BackupErrorCode.InvalidManifest,
    `Backup manifest is not valid (${why}): restore another backup, or delete this one`,
  );

const isHex = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isSize = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses and checks a manifest's JSON. */
export function parseManifest(bytes: Buffer): Manifest {
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(bytes.toString('utf8')) as Partial<Manifest>;
  } catch {
    throw bad('not JSON');
  }
  if (typeof m !== 'object' || m === null || m.version !== 1) throw bad('unknown version');
  if (typeof m.id !== 'string' || !isBackupId(m.id)) throw bad('id');
  if (m.format !== 'pg-custom+chunked-fernet' && m.format !== 'legacy-fernet') throw bad('format');
  if (m.compression !== 'gzip' && m.compression !== 'zstd' && m.compression !== 'none') {
    throw bad('compression');
  }
  if (!isHex(m.plaintext?.sha256) || !isSize(m.plaintext?.bytes)) throw bad('plaintext');
  if (!isHex(m.ciphertext?.sha256) || !isSize(m.ciphertext?.bytes)) throw bad('ciphertext');
  if (typeof m.keyId !== 'string' || !/^[0-9a-f]{8}$/.test(m.keyId)) throw bad('keyId');
  if (typeof m.object !== 'string' || typeof m.database !== 'string') throw bad('object');
  if (!Array.isArray(m.tables)) throw bad('tables');
  return m as Manifest;
}
