import { randomBytes } from 'node:crypto';
import { describeError, errorType, withTimeout } from '@org/core';
import { raiseAlert } from './alert.js';
import { BackupError, BackupErrorCode } from './errors.js';
import type { createEmitter } from './events.js';
import { type Manifest, manifestKey, type Verification } from './manifest.js';
import { check, type Resolved, roomy } from './options.js';
import { type DbTarget, dbTarget, tableStats, withClient, withDatabase } from './pg.js';
import {
  type BackupRef,
  checkBackup,
  loadBackup,
  requestedTarget,
  resolveBackup,
} from './restore.js';
import { inOperation, learnVerifiedAt, observeStage, recordOutcome } from './telemetry.js';

/** Options of `verify`. */
export interface VerifyRequest {
  /** The target to read the backup from. @default the first target */
  target?: string | undefined;
  /**
   * A server where the scratch database is created (any database on it; the role needs
   * CREATEDB). @default the backed-up database's server
   */
  scratchUrl?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** What `verify` resolves with (also kept in the manifest on every target that holds the backup). */
export interface VerifyResult {
  id: string;
  target: string;
  ok: boolean;
  /** Tables whose row count or checksum differs from the dump's. */
  mismatches: string[];
  /** Tables compared. */
  tables: number;
  durationMs: number;
  verifiedAt?: Date | undefined;
  /** The scratch database the test restored into (dropped by the time this resolves). */
  scratchDatabase: string;
}

/** Tables that differ between the manifest and the restored database. */
export function compareTables(expected: Manifest['tables'], actual: Manifest['tables']): string[] {
  const got = new Map(actual.map((t) => [t.table, t]));
  const out: string[] = [];
  for (const t of expected) {
    const a = got.get(t.table);
    if (!a) out.push(`${t.table}: missing`);
    else if (a.rows !== t.rows) out.push(`${t.table}: ${a.rows} rows, ${t.rows} at dump time`);
    else if (a.checksum !== t.checksum) out.push(`${t.table}: checksum differs`);
    got.delete(t.table);
  }
  for (const extra of got.keys()) out.push(`${extra}: not in the backup`);
  return out;
}

/** @internal The monthly restore test: restore into a scratch database, compare, drop it. */
export async function verifyBackup(
  r: Resolved,
  events: ReturnType<typeof createEmitter>,
  ref: BackupRef,
  request: VerifyRequest = {},
): Promise<VerifyResult> {
  const req = check.object(request, 'request');
  const started = r.clock.now();
  const server: DbTarget =
    req.scratchUrl === undefined ? r.db : dbTarget(req.scratchUrl, 'scratchUrl');
  let target = requestedTarget(r, req.target);
  const verifying = () =>
    withTimeout(
      async (outer) => {
        const signal = roomy(outer);
        const found = await resolveBackup(r, ref, req.target, signal);
        target = found.target;
        if (!found.manifest) {
          throw new BackupError(
            BackupErrorCode.InvalidManifest,
            'Only backups with a manifest can be verified: restore a legacy file with `restore`',
          );
        }
        const manifest = found.manifest;
        const scratchName = `backup_verify_${randomBytes(6).toString('hex')}`;
        const scratch = withDatabase(server, scratchName);
        let mismatches: string[] = [];
        let error: string | undefined;
        let errorCode: string | undefined;
        try {
          const checked = await observeStage('download', manifest.database, found.target, () =>
            checkBackup(r, events, found, 'verify', signal),
          );
          mismatches = await observeStage(
            'restore_test',
            manifest.database,
            found.target,
            async () => {
              await withClient(
                server,
                signal,
                (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(scratchName)}`),
                BackupErrorCode.RestoreFailed,
              );
              await observeStage('restore', manifest.database, found.target, () =>
                loadBackup(r, events, checked, scratch, false, 'verify', signal),
              );
              const actual = await withClient(
                scratch,
                signal,
                tableStats,
                BackupErrorCode.RestoreFailed,
              );
              return compareTables(manifest.tables, actual);
            },
          );
        } catch (err) {
          if (signal.aborted) throw err;
          error = describeError(err);
          errorCode = errorType(err);
        } finally {
          // Always dropped, also when the test failed; WITH (FORCE) ends a restore still connected.
          await withClient(server, undefined, (c) =>
            c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(scratchName)} WITH (FORCE)`),
          ).catch(() => {});
        }
        const ok = error === undefined && mismatches.length === 0;
        const now = r.clock.now();
        const verification: Verification = {
          ok,
          durationMs: now - started,
          mismatches,
          ...(ok ? { verifiedAt: new Date(now).toISOString() } : {}),
          ...(error === undefined ? {} : { error }),
        };
        await recordVerification(r, manifest, verification, signal);
        events.emit('verified', {
          id: found.id,
          target: found.target,
          ok,
          durationMs: verification.durationMs,
        });
        recordOutcome(
          'verifications',
          manifest.database,
          found.target,
          ok ? undefined : (errorCode ?? 'table_mismatch'),
        );
        if (ok) learnVerifiedAt(r, manifest.database, found.target, now);
        if (!ok) {
          raiseAlert(r, 'backup_verify_failed', {
            database: manifest.database,
            target: found.target,
            error: errorCode ?? 'table_mismatch',
            id: found.id,
            message: `Restore test of a backup of ${manifest.database} on ${found.target} failed`,
            data: { mismatches, error },
          });
        }
        return {
          id: found.id,
          target: found.target,
          ok,
          mismatches: error === undefined ? mismatches : [error],
          tables: manifest.tables.length,
          durationMs: verification.durationMs,
          verifiedAt: ok ? new Date(now) : undefined,
          scratchDatabase: scratchName,
        };
      },
      { timeoutMs: r.timeoutMs, signal: req.signal, what: 'Backup verify' },
    );
  try {
    return await inOperation('verify', r.db.database, verifying);
  } catch (err) {
    recordOutcome('verifications', r.db.database, target, err);
    throw err;
  }
}

/** Rewrites the manifest with the test's result on every target that holds the backup. */
async function recordVerification(
  r: Resolved,
  manifest: Manifest,
  verification: Verification,
  signal: AbortSignal,
): Promise<void> {
  const key = manifestKey(manifest.database, manifest.id);
  await Promise.all(
    [...r.targets.values()].map(async (storage) => {
      try {
        const current = JSON.parse(
          (await storage.getBuffer(key, { signal })).toString('utf8'),
        ) as Manifest;
        if (current.ciphertext?.sha256 !== manifest.ciphertext.sha256) return;
        await storage.put(key, JSON.stringify({ ...current, verification }, null, 2), {
          signal,
          contentType: 'application/json',
        });
      } catch {
        // A target without this backup (or down) keeps its manifest as it was.
      }
    }),
  );
}
