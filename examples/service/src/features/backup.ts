import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createBackupFromEnv,
  createBackupTrigger,
  lastVerifiedBackupCheck,
  runForTrigger,
} from '@org/backup';
import { type App, type Feature, sendJson } from '../app.js';
import type { BackupState } from '../status/board.js';
import { devOptionalKey } from './secrets.js';

/** The variables that turn the backup trigger on; without them `/backup` answers 404. */
export const BACKUP_ENABLED_BY = ['BACKUP_TRIGGER_TOKEN', 'DATABASE_URL'] as const;

/** Whether the guard answers: a `/backup` path other than the `POST /backup` route. */
const forGuard = (req: IncomingMessage) => {
  const path = (req.url ?? '/').split(/[?#]/, 1)[0] ?? '/';
  if (path === '/backup') return req.method !== 'POST';
  return path.startsWith('/backup/');
};

function disabled(app: App): void {
  app.status.backup = () => ({ enabled: false, last: null });
  const off = (res: ServerResponse) =>
    sendJson(res, 404, {
      error: 'the backup trigger is off',
      enable: `set ${BACKUP_ENABLED_BY.join(' and ')} (a token of at least 32 characters), and BACKUP_ENCRYPTION_KEY`,
    });
  app.route('POST', '/backup', (_req, res) => off(res));
  app.use((req: IncomingMessage, res: ServerResponse) => {
    if (!forGuard(req)) return true;
    off(res);
    return false;
  });
}

/**
 * Database backups through @org/backup, on when `BACKUP_TRIGGER_TOKEN` (at least 32 characters)
 * and `DATABASE_URL` are set: `createBackupFromEnv` reads `DATABASE_URL`,
 * `BACKUP_ENCRYPTION_KEY` (through the secrets feature: `backup-encryption-key`),
 * `BACKUP_ENCRYPTION_OLD_KEYS`, `BACKUP_CONFIG` and `BACKUP_DIR` (the local target's folder,
 * `./backups`). `POST /backup` with `X-Backup-Token` starts a run (202 with its id, 409 while
 * one runs), `GET /backup/<runId>` reads it; a wrong token is 401. The full health report gains
 * the "last verified backup" check, the status page the last run. Without the two variables
 * `/backup` answers 404 naming them, and nothing else changes.
 */
export const backup: Feature = async (app) => {
  const token = process.env.BACKUP_TRIGGER_TOKEN?.trim();
  const databaseUrl = process.env.DATABASE_URL?.trim();
  if (!token || !databaseUrl) return disabled(app);
  const key = await devOptionalKey('backup-encryption-key'); // BACKUP_ENCRYPTION_KEY
  // Throws ERR_BACKUP_INVALID_OPTION at start-up for a missing key or a bad config file.
  const owned = createBackupFromEnv({ ...process.env, BACKUP_ENCRYPTION_KEY: key });
  let lastRunId: string | undefined;
  const forTrigger = runForTrigger(owned.backup);
  // The trigger sets its running state as soon as `run` returns: a microtask later it is there.
  const run: typeof forTrigger = (request) => {
    queueMicrotask(() => {
      lastRunId = trigger.current()?.runId ?? lastRunId;
    });
    return forTrigger(request);
  };
  let trigger: ReturnType<typeof createBackupTrigger>;
  try {
    trigger = createBackupTrigger({
      token, // ERR_BACKUP_INVALID_OPTION (the token never echoed) when shorter than 32 characters
      run,
      targets: [...owned.backup.targets, 'all'],
    });
  } catch (err) {
    await owned.close();
    throw err;
  }
  // `POST /backup` is a route (listed by `GET /`, named in the request's span); the trigger's
  // other paths (`GET /backup/<runId>`, a 405 for another method) go through a guard.
  app.route('POST', '/backup', (req, res) => trigger.handler(req, res));
  app.use((req, res) => {
    if (!forGuard(req)) return true;
    trigger.handler(req, res);
    return false;
  });
  app.check(
    'backup',
    lastVerifiedBackupCheck({
      lastVerifiedAt: (signal) => owned.backup.lastVerifiedAt({ signal }),
      maxAge: '8d',
    }),
  );
  app.status.backup = (): BackupState => {
    const state = lastRunId === undefined ? trigger.current() : trigger.get(lastRunId);
    if (!state) return { enabled: true, last: null };
    const { runId, status, target, startedAt, finishedAt, durationMs, error } = state;
    return {
      enabled: true,
      last: {
        runId,
        status,
        ...(target === undefined ? {} : { target }),
        startedAt,
        ...(finishedAt === undefined ? {} : { finishedAt }),
        ...(durationMs === undefined ? {} : { durationMs }),
        ...(error === undefined ? {} : { error: error.code }),
      },
    };
  };
  // Closed in reverse: the trigger first (the running backup aborted and awaited), then the
  // storages the backup was built with.
  app.onClose(() => owned.close());
  app.onClose(() => trigger.close());
};
