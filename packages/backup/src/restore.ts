import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createChunkedDecryptStream,
  createDecryptStream,
  type FernetKey,
  isFernetError,
} from '@org/backup-crypto';
import { describeError, isOrgError, withTimeout } from '@org/core';
import { startTool } from './child.js';
import { detectFormat } from './detect.js';
import { BackupError, BackupErrorCode, invalidOption } from './errors.js';
import type { createEmitter } from './events.js';
import { keyMissing, keysFor } from './keys.js';
import { listBackups } from './list.js';
import { type Compression, isBackupId, type Manifest } from './manifest.js';
import { type BackupTarget, check, drain, type Resolved, roomy, targetNamed } from './options.js';
import { type DbTarget, dbTarget, userTableCount, withClient } from './pg.js';
import { decompressor, HoldBack, Meter } from './streams.js';
import { inOperation, observeStage, recordOutcome } from './telemetry.js';

/** Which backup: an id, `'latest'` (the newest complete one), or an object key of a file made the legacy way. */
export type BackupRef = string | { key: string };

/** Options of `restore`. */
export interface RestoreRequest {
  /** The database to restore into: `postgres://…/dbname`. It must exist. */
  to: string;
  /** Restore into a database that holds tables already (`pg_restore --clean --if-exists`). @default false */
  force?: boolean | undefined;
  /** The target to read from. @default the first target */
  target?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** What `restore` resolves with. */
export interface RestoreResult {
  id: string;
  target: string;
  format: Manifest['format'];
  /** Plaintext (dump) bytes restored. */
  bytes: number;
  durationMs: number;
}

/** @internal What the first pass established about the stored bytes. */
export interface Checked {
  id: string;
  target: string;
  storage: BackupTarget;
  objectKey: string;
  format: Manifest['format'];
  compression: Compression;
  keys: FernetKey[];
  plaintext: { sha256: string; bytes: number };
  /** `pg_restore` for custom-format dumps, `psql` for plain SQL (legacy files only). */
  loader: 'pg_restore' | 'psql';
  manifest?: Manifest | undefined;
}

const integrity = (what: string, cause?: unknown) =>
  new BackupError(
    BackupErrorCode.Integrity,
    `Backup refused before anything was restored: ${what}. Restore another backup (backup list)`,
    cause === undefined ? undefined : { cause },
  );

/** @internal Finds the backup `ref` on the target and reads its manifest. */
export async function resolveBackup(
  r: Resolved,
  ref: BackupRef,
  targetName: string | undefined,
  signal: AbortSignal | undefined,
): Promise<{
  target: string;
  storage: BackupTarget;
  manifest?: Manifest;
  objectKey: string;
  id: string;
}> {
  const target = check.string(targetName, 'target', [...r.targets.keys()][0]!);
  const storage = targetNamed(r, target);
  if (typeof ref === 'object' && ref !== null && typeof ref.key === 'string') {
    return { target, storage, objectKey: ref.key, id: ref.key };
  }
  if (ref === 'latest') {
    const entries = await listBackups(r, { target, signal });
    const latest = entries.find((e) => e.status === 'complete');
    if (!latest?.manifest) {
      throw new BackupError(
        BackupErrorCode.NotFound,
        `No complete backup of ${r.db.database} on target ${target}: run \`backup run\` first`,
      );
    }
    return {
      target,
      storage,
      manifest: latest.manifest,
      objectKey: latest.manifest.object,
      id: latest.id,
    };
  }
  if (typeof ref !== 'string' || !isBackupId(ref)) {
    throw invalidOption(
      'the backup must be an id from `backup list` (20261204T221500Z-1a2b3c), `latest`, or { key } of a legacy file',
    );
  }
  const entries = await listBackups(r, { target, signal });
  const entry = entries.find((e) => e.id === ref);
  if (!entry)
    throw new BackupError(
      BackupErrorCode.NotFound,
      `No backup ${ref} of ${r.db.database} on target ${target}: see \`backup list\``,
    );
  if (
    entry.manifest &&
    entry.bytes !== undefined &&
    entry.bytes !== entry.manifest.ciphertext.bytes
  ) {
    throw integrity(
      `the stored object of ${ref} on target ${target} is ${entry.bytes} bytes where its manifest says ${entry.manifest.ciphertext.bytes} (truncated or altered)`,
    );
  }
  if (entry.status !== 'complete' || !entry.manifest) {
    throw new BackupError(
      BackupErrorCode.NotFound,
      `Backup ${ref} on target ${target} is incomplete (${entry.error ?? 'its data or manifest is missing: the upload did not finish'}); restore another one`,
    );
  }
  return { target, storage, manifest: entry.manifest, objectKey: entry.manifest.object, id: ref };
}

function decryptor(format: Manifest['format'], keys: FernetKey[]): Transform {
  if (format === 'pg-custom+chunked-fernet') return createChunkedDecryptStream(keys);
  return createDecryptStream(keys[0]!);
}

/** @internal First pass: every byte is read, authenticated, decompressed and hashed; nothing is written anywhere. */
export async function checkBackup(
  r: Resolved,
  events: ReturnType<typeof createEmitter>,
  found: Awaited<ReturnType<typeof resolveBackup>>,
  operation: 'restore' | 'verify',
  signal: AbortSignal,
): Promise<Checked> {
  const { manifest, storage, objectKey } = found;
  const shape = manifest
    ? { format: manifest.format, compression: manifest.compression }
    : await detectFormat(r.ring.keys, storage, objectKey, signal);
  const candidates = manifest ? keysFor(r.ring, manifest.keyId) : [...r.ring.keys];
  // A legacy token carries no key id: each configured key is tried in turn.
  const tries = shape.format === 'legacy-fernet' ? candidates.map((k) => [k]) : [candidates];
  let lastErr: unknown;
  for (const keys of tries) {
    const cipher = new Meter();
    const plain = new Meter((bytes) =>
      events.emit('progress', {
        operation,
        phase: 'check',
        bytes,
        totalBytes: manifest?.plaintext.bytes,
      }),
    );
    let first: Buffer | undefined;
    plain.once('data', (c: Buffer) => {
      first = c;
    });
    try {
      const source = await storage.getStream(objectKey, { signal });
      await pipeline(
        source,
        cipher,
        decryptor(shape.format, keys),
        decompressor(shape.compression),
        plain,
        drain,
        { signal },
      );
    } catch (err) {
      if (signal.aborted || isOrgError(err, 'ERR_ABORTED') || isOrgError(err, 'ERR_TIMEOUT'))
        throw err;
      if (isOrgError(err, 'ERR_STORAGE_NOT_FOUND'))
        throw new BackupError(
          BackupErrorCode.NotFound,
          `The data object of backup ${found.id} is missing on target ${found.target}`,
          { cause: err },
        );
      lastErr = err;
      if (!isFernetError(err) || manifest) break;
      continue;
    }
    if (
      manifest &&
      (cipher.digest() !== manifest.ciphertext.sha256 || cipher.bytes !== manifest.ciphertext.bytes)
    ) {
      throw integrity(
        `the stored object (${cipher.bytes} bytes) does not match its manifest's SHA-256 (${manifest.ciphertext.bytes} bytes)`,
      );
    }
    if (
      manifest &&
      (plain.digest() !== manifest.plaintext.sha256 || plain.bytes !== manifest.plaintext.bytes)
    ) {
      throw integrity("the decrypted dump does not match its manifest's SHA-256");
    }
    const magic = first?.subarray(0, 5).toString('latin1');
    return {
      id: found.id,
      target: found.target,
      storage,
      objectKey,
      format: shape.format,
      compression: shape.compression,
      keys,
      plaintext: { sha256: plain.digest(), bytes: plain.bytes },
      loader: magic === 'PGDMP' ? 'pg_restore' : 'psql',
      manifest,
    };
  }
  if (!manifest && isFernetError(lastErr, 'ERR_FERNET_INVALID_TOKEN')) {
    throw new BackupError(
      BackupErrorCode.KeyMissing,
      `${keyMissing(r.ring, undefined).message}, or the file was altered; nothing was restored`,
      { cause: lastErr },
    );
  }
  throw integrity(
    isFernetError(lastErr) ? 'its bytes were altered or truncated' : describeError(lastErr),
    lastErr,
  );
}

/** @internal Second pass: streams the verified backup into pg_restore (or psql), holding the end back until it checks out again. */
export async function loadBackup(
  r: Resolved,
  events: ReturnType<typeof createEmitter>,
  checked: Checked,
  to: DbTarget,
  force: boolean,
  operation: 'restore' | 'verify',
  signal: AbortSignal,
): Promise<void> {
  const args =
    checked.loader === 'pg_restore'
      ? [
          '--single-transaction',
          '--exit-on-error',
          '--no-owner',
          ...(force ? ['--clean', '--if-exists'] : []),
        ]
      : ['-X', '-q', '--single-transaction', '-v', 'ON_ERROR_STOP=1'];
  const child = startTool(checked.loader === 'pg_restore' ? r.pgRestore : r.psql, args, to);
  child.stdout.resume();
  const hold = new HoldBack(1024 * 1024, (sha256, bytes) => {
    if (sha256 !== checked.plaintext.sha256 || bytes !== checked.plaintext.bytes) {
      throw integrity('the backup changed between the check and the restore');
    }
  });
  const progress = new Meter((bytes) =>
    events.emit('progress', {
      operation,
      phase: 'load',
      bytes,
      totalBytes: checked.plaintext.bytes,
    }),
  );
  try {
    const source: Readable = await checked.storage.getStream(checked.objectKey, { signal });
    await pipeline(
      source,
      decryptor(checked.format, checked.keys),
      decompressor(checked.compression),
      hold,
      progress,
      child.stdin,
      { signal },
    );
  } catch (err) {
    // Killed before its input ended, the loader's transaction rolls back.
    child.kill();
    await child.exited;
    if (signal.aborted || isOrgError(err)) throw err;
    throw new BackupError(
      BackupErrorCode.RestoreFailed,
      `Restore failed: ${describeError(err)}; ${child.stderr()}`,
      { cause: err },
    );
  }
  const code = await child.exited;
  if (code !== 0) {
    throw new BackupError(
      BackupErrorCode.RestoreFailed,
      `${checked.loader} failed (exit code ${code}); the target was rolled back: ${child.stderr() || 'no output'}`,
    );
  }
}

/**
 * The target attribute of a restore or restore test before its backup is found: the first
 * configured target when the caller names none, the name once it is known to be configured,
 * else `_OTHER` (an unknown name is no attribute value).
 */
export function requestedTarget(r: Resolved, requested: unknown): string {
  if (requested === undefined) return [...r.targets.keys()][0]!;
  return r.targets.has(requested as string) ? (requested as string) : '_OTHER';
}
/** @internal `restore`: check everything, then check the target, then load. */
export async function restoreBackup(
  r: Resolved,
  events: ReturnType<typeof createEmitter>,
  ref: BackupRef,
  request: RestoreRequest,
): Promise<RestoreResult> {
  const req = check.object(request, 'request');
  const to = dbTarget(req.to, 'to');
  const force = check.boolean(req.force, 'force', false);
  const started = r.clock.now();
  let target = requestedTarget(r, req.target);
  const restoring = () =>
    withTimeout(
      async (outer) => {
        const signal = roomy(outer);
        const found = await resolveBackup(r, ref, req.target, signal);
        target = found.target;
        const checked = await observeStage('download', r.db.database, found.target, () =>
          checkBackup(r, events, found, 'restore', signal),
        );
        const tables = await withClient(to, signal, userTableCount, BackupErrorCode.RestoreFailed);
        if (tables > 0 && !force) {
          throw new BackupError(
            BackupErrorCode.TargetNotEmpty,
            `Database ${to.database} holds ${tables} tables already: restore into an empty database, or pass force to replace what the backup holds`,
          );
        }
        await observeStage('restore', r.db.database, found.target, () =>
          loadBackup(r, events, checked, to, force, 'restore', signal),
        );
        return {
          id: checked.id,
          target: checked.target,
          format: checked.format,
          bytes: checked.plaintext.bytes,
          durationMs: r.clock.now() - started,
        };
      },
      { timeoutMs: r.timeoutMs, signal: req.signal, what: 'Backup restore' },
    );
  try {
    const result = await inOperation('restore', r.db.database, restoring);
    recordOutcome('restores', r.db.database, target, undefined);
    return result;
  } catch (err) {
    recordOutcome('restores', r.db.database, target, err);
    throw err;
  }
}
