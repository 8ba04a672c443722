import { pipeline } from 'node:stream/promises';
import { createChunkedEncryptStream } from '@org/backup-crypto';
import { describeError, isOrgError, throwIfAborted, withTimeout } from '@org/core';
import { raiseAlert } from './alert.js';
import { type Child, explain, runCommand, startTool } from './child.js';
import { BackupError, BackupErrorCode, invalidOption } from './errors.js';
import type { createEmitter } from './events.js';
import { dataKey, type Manifest, manifestKey, newBackupId } from './manifest.js';
import { type Resolved, roomy, targetNamed } from './options.js';
import {
  connect,
  endBackends,
  serverVersion,
  type TableStat,
  tableStats,
  withApplicationName,
} from './pg.js';
import { compressor, FanOut, Meter } from './streams.js';
import { inOperation, observeStage, recordRun } from './telemetry.js';

/** What `run` takes. */
export interface RunRequest {
  /** Target names to write to. @default every target */
  targets?: readonly string[] | undefined;
  /** A label kept in the manifest (`pre-deploy`): 1-64 of a-z 0-9 . _ -. @default none */
  tag?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** The outcome on one target. */
export interface TargetResult {
  status: 'complete' | 'failed';
  /** Why it failed (no secrets). */
  error?: string | undefined;
}

/** What `run` resolves with: `partial` when some target failed (alerted; the CLI exits non-zero). */
export interface RunResult {
  id: string;
  database: string;
  status: 'complete' | 'partial';
  targets: Record<string, TargetResult>;
  manifest: Manifest;
  durationMs: number;
}

const FORMAT = 'pg-custom+chunked-fernet';

/** @internal One backup run: dump, compress, encrypt, upload everywhere, then the manifests. */
export async function runBackup(
  r: Resolved,
  events: ReturnType<typeof createEmitter>,
  request: RunRequest = {},
): Promise<RunResult> {
  const names = request.targets === undefined ? [...r.targets.keys()] : [...request.targets];
  if (!Array.isArray(names) || names.length === 0)
    throw invalidOption('`targets` must name at least one target');
  for (const n of names) targetNamed(r, n);
  if (
    request.tag !== undefined &&
    (typeof request.tag !== 'string' || !/^[a-z0-9._-]{1,64}$/i.test(request.tag))
  ) {
    throw invalidOption('`tag` must be 1-64 of a-z 0-9 . _ -');
  }
  const started = r.clock.now();
  const id = newBackupId(started);
  try {
    const result = await inOperation('run', r.db.database, () =>
      withTimeout(
        (signal) => dumpAndUpload(r, events, id, names, request.tag, started, roomy(signal)),
        {
          timeoutMs: r.timeoutMs,
          signal: request.signal,
          what: 'Backup run',
        },
      ),
    );
    recordRun(
      r.db.database,
      Object.fromEntries(names.map((n) => [n, result.targets[n]!.status])),
      result.status,
      result.manifest.plaintext.bytes,
      result.manifest.ciphertext.bytes,
    );
    return result;
  } catch (err) {
    recordRun(
      r.db.database,
      Object.fromEntries(names.map((n) => [n, 'failed' as const])),
      'failed',
      undefined,
      undefined,
      err,
    );
    const error = describeError(err);
    events.emit('run', {
      id,
      status: 'failed',
      durationMs: r.clock.now() - started,
      targets: Object.fromEntries(names.map((n) => [n, 'failed' as const])),
    });
    raiseAlert(r, 'backup_failed', {
      database: r.db.database,
      target: [...names].sort().join(','),
      error: err,
      id,
      message: `Backup of ${r.db.database} failed: nothing was stored as complete`,
      data: { error, targets: names },
    });
    throw err;
  }
}

async function dumpAndUpload(
  r: Resolved,
  events: ReturnType<typeof createEmitter>,
  id: string,
  names: string[],
  tag: string | undefined,
  started: number,
  signal: AbortSignal,
): Promise<RunResult> {
  const client = await connect(r.db, signal);
  let child: Child | undefined;
  // On abort, the run's backends (the checksum query's, pg_dump's) are ended from another
  // connection: one waiting on a lock outlives its client, and ROLLBACK would queue behind it.
  const appName = `org-backup-${id}`;
  let pid: number | undefined;
  let ended: Promise<void> | undefined;
  const onAbort = () => {
    child?.kill();
    ended ??= endBackends(r.db, pid, appName);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    // The dump and the table checksums read one snapshot: what the checksums say is what was dumped.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const exported = (
      await client.query<{ s: string; pid: number }>(
        'SELECT pg_export_snapshot() AS s, pg_backend_pid() AS pid',
      )
    ).rows[0]!;
    const snapshot = exported.s;
    pid = exported.pid;
    if (signal.aborted) onAbort();
    const server = await serverVersion(client);
    const pgDumpVersion = await runCommand(r.pgDump, ['--version']).catch((err: unknown) => {
      throw new BackupError(
        BackupErrorCode.DumpFailed,
        `Cannot run ${r.pgDump}: install the PostgreSQL client tools (${describeError(err)})`,
      );
    });
    throwIfAborted(signal);
    const c = startTool(
      r.pgDump,
      ['--format=custom', '--compress=0', `--snapshot=${snapshot}`],
      withApplicationName(r.db, appName),
    );
    child = c;
    let stats: TableStat[] = [];
    const statsDone = (r.tableChecksums ? tableStats(client) : Promise.resolve([])).then((s) => {
      stats = s;
    });
    statsDone.catch(() => {});
    const dumpFailed = (why: string) =>
      new BackupError(
        BackupErrorCode.DumpFailed,
        `pg_dump failed (${why}); nothing was stored as complete: ${c.stderr() || 'no output'}`,
      );
    const fan = new FanOut(names, async () => {
      const code = await c.exited;
      if (code !== 0) throw dumpFailed(`exit code ${code}`);
      await statsDone.catch((err: unknown) => {
        throw new BackupError(
          BackupErrorCode.DumpFailed,
          `The table checksums beside the dump failed: ${describeError(err)}`,
        );
      });
    });
    const plain = new Meter((bytes) =>
      events.emit('progress', { operation: 'run', phase: 'dump', bytes }),
    );
    const cipher = new Meter();
    const key = dataKey(r.db.database, id);
    const failures = new Map<string, string>();
    const uploads = fan.branches.map((b) =>
      observeStage('upload', r.db.database, b.name, () =>
        targetNamed(r, b.name).put(key, b.stream, {
          signal,
          contentType: 'application/octet-stream',
          metadata: { 'backup-id': id },
        }),
      ).then(
        (res) => res,
        (err: unknown) => {
          failures.set(b.name, explain(err));
          fan.drop(
            b.name,
            new BackupError(BackupErrorCode.UploadFailed, `Upload to ${b.name} failed`, {
              cause: err,
            }),
          );
          return undefined;
        },
      ),
    );
    try {
      await observeStage('dump', r.db.database, undefined, () =>
        pipeline(
          c.stdout,
          plain,
          compressor(r.compression, r.level),
          createChunkedEncryptStream(r.ring.keys[0]!),
          cipher,
          fan,
          { signal },
        ),
      );
    } catch (err) {
      c.kill();
      await Promise.all(uploads);
      if (signal.aborted || isOrgError(err, 'ERR_ABORTED') || isOrgError(err, 'ERR_TIMEOUT'))
        throw err;
      if (isOrgError(err, BackupErrorCode.UploadFailed)) {
        throw new BackupError(
          BackupErrorCode.UploadFailed,
          `No target stored backup ${id}: ${[...failures].map(([n, e]) => `${n}: ${e}`).join('; ')}`,
          { cause: err },
        );
      }
      if (isOrgError(err, BackupErrorCode.DumpFailed)) throw err;
      throw dumpFailed(describeError(err));
    }
    const results = await Promise.all(uploads);
    const manifest: Manifest = {
      version: 1,
      id,
      database: r.db.database,
      createdAt: new Date(started).toISOString(),
      ...(tag === undefined ? {} : { tag }),
      format: FORMAT,
      compression: r.compression,
      keyId: r.ring.ids[0]!,
      plaintext: { sha256: plain.digest(), bytes: plain.bytes },
      ciphertext: { sha256: cipher.digest(), bytes: cipher.bytes },
      serverVersion: server,
      pgDumpVersion: pgDumpVersion.replace(/^pg_dump \(PostgreSQL\) /, ''),
      durationMs: r.clock.now() - started,
      tables: stats,
      object: key,
    };
    // The manifest goes only where the data object is whole: a backup without one is incomplete.
    await Promise.all(
      names.map(async (name, i) => {
        const res = results[i];
        if (res === undefined) return;
        if (res.sha256 !== manifest.ciphertext.sha256 || res.size !== manifest.ciphertext.bytes) {
          failures.set(
            name,
            `the stored object does not match what was sent (${res.size} of ${manifest.ciphertext.bytes} bytes)`,
          );
          return;
        }
        try {
          await targetNamed(r, name).put(
            manifestKey(r.db.database, id),
            JSON.stringify(manifest, null, 2),
            {
              signal,
              contentType: 'application/json',
            },
          );
        } catch (err) {
          failures.set(name, `manifest not written: ${explain(err)}`);
        }
      }),
    );
    return finish(r, events, manifest, names, failures, started);
  } finally {
    signal.removeEventListener('abort', onAbort);
    child?.kill();
    if (ended !== undefined) await ended;
    else await client.query('ROLLBACK').catch(() => {});
    await client.end().catch(() => {});
  }
}

function finish(
  r: Resolved,
  events: ReturnType<typeof createEmitter>,
  manifest: Manifest,
  names: string[],
  failures: Map<string, string>,
  started: number,
): RunResult {
  const id = manifest.id;
  const targets: Record<string, TargetResult> = {};
  for (const n of names) {
    const error = failures.get(n);
    targets[n] = error === undefined ? { status: 'complete' } : { status: 'failed', error };
    if (error !== undefined) events.emit('targetFailed', { id, target: n, error });
  }
  const durationMs = r.clock.now() - started;
  const okCount = names.filter((n) => !failures.has(n)).length;
  const summary = Object.fromEntries(names.map((n) => [n, targets[n]!.status]));
  if (okCount === 0) {
    // runBackup reports it (event and alert) as every failed run.
    throw new BackupError(
      BackupErrorCode.UploadFailed,
      `No target stored backup ${id}: ${[...failures].map(([n, e]) => `${n}: ${e}`).join('; ')}`,
    );
  }
  const status = okCount === names.length ? 'complete' : 'partial';
  events.emit('run', { id, status, durationMs, targets: summary });
  if (status === 'partial') {
    const failed = [...failures.keys()].sort();
    raiseAlert(r, 'backup_partial', {
      database: r.db.database,
      target: failed.join(','),
      error: BackupErrorCode.UploadFailed,
      id,
      message: `Backup of ${r.db.database} is partial: ${failed.join(', ')} failed`,
      data: { targets },
    });
  }
  return { id, database: r.db.database, status, targets, manifest, durationMs };
}
