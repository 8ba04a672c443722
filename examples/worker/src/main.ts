import { mkdirSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAlertsFromEnv } from '@org/alerts';
import { describeError, scrubString } from '@org/core';
import { createFileKeyStore, type KeyStore } from '@org/key-rotation';
import { createStorage, type Storage } from '@org/storage';
import { workerEnv } from './env.js';
import { isWorkerError } from './errors.js';
import { acquireLock, type Lock } from './lock.js';
import { createWorker, type Worker } from './worker.js';

/** One JSON line on stdout per event: what a log collector reads. */
const log = (event: string, fields: Record<string, unknown> = {}) => {
  const { level = 'info', ...rest } = fields;
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, event, ...rest })}\n`,
  );
};

// Without SENTRY_DSN, alerts are JSON lines on stderr.
const alerts = createAlertsFromEnv({ tags: { service: 'backup-worker' } });
const held: { storages: Storage[]; keyStore?: KeyStore; lock?: Lock; worker?: Worker } = {
  storages: [],
};

let released: Promise<void> | undefined;
/** Stops the schedule (aborting a run under way), then releases everything, alerts flushed last. */
const release = () => {
  released ??= (async () => {
    await held.worker?.close();
    await held.keyStore?.close?.();
    for (const s of held.storages) await s.close();
    await held.lock?.release();
    await alerts.flush('5s').catch(() => {});
    await alerts.close();
  })();
  return released;
};

async function fail(err: unknown): Promise<never> {
  const message = scrubString(describeError(err, 500), { mode: 'reason' });
  if (isWorkerError(err, 'ERR_WORKER_LOCKED')) {
    log('locked', { level: 'warn', message });
    await release();
    process.exit(75); // EX_TEMPFAIL: cron may try again later
  }
  alerts.alert('worker_start_failed', {
    level: 'error',
    message: `The backup worker could not start: ${message}`,
  });
  await release().catch(() => {});
  process.exit(1);
}

try {
  const env = workerEnv();
  for (const notice of env.notices) log('notice', { level: 'warn', message: notice });
  mkdirSync(env.dataDir, { recursive: true });
  const targets = { r2: createStorage(env.targets.r2), s3: createStorage(env.targets.s3) };
  held.storages.push(targets.r2, targets.s3);
  held.keyStore = env.keyring.redisUrl
    ? (await import('@org/key-rotation/redis')).createRedisKeyStore({
        redis: env.keyring.redisUrl,
        prefix: env.keyring.prefix,
      })
    : createFileKeyStore({ path: env.keyring.file });
  // One worker per data folder: a cron-started RUN_ONCE never runs beside the resident one.
  held.lock = await acquireLock(join(env.dataDir, 'worker.lock'));
  const worker = await createWorker({
    databaseUrl: env.databaseUrl,
    targets,
    backupKeys: env.backupKeys,
    keyStore: held.keyStore,
    keyringEncryptionKey: env.keyring.encryptionKey,
    keyAlgorithm: env.keyAlgorithm,
    schedule: env.schedule,
    alerts,
    log,
  });
  held.worker = worker;
  worker.ring.on('rotate', ({ kid, previousKid }) => log('key-rotated', { kid, previousKid }));
  worker.ring.on('stage', ({ kid }) => log('key-staged', { kid }));
  worker.ring.on('error', ({ error }) =>
    log('keyring-refresh-failed', { level: 'warn', error: scrubString(describeError(error)) }),
  );
  worker.backup.on('verified', (e) => log('backup-verified', { ...e }));

  // #region run-once
  if (env.runOnce !== undefined) {
    // Under cron or GitHub Actions: run what is due (or everything of that kind with
    // RUN_ONCE_FORCE=true), then exit 0 when every run succeeded.
    const stop = () => void worker.scheduler.close();
    process.once('SIGTERM', stop).once('SIGINT', stop);
    const reports = await worker.scheduler.runDue({ kind: env.runOnce, force: env.force });
    if (reports.length === 0)
      log('nothing-due', { kind: env.runOnce, next: worker.scheduler.status() });
    await release();
    process.exit(reports.every((r) => r.outcome === 'ok') ? 0 : 1);
  }
  // #endregion run-once

  // #region status
  const status = (res: ServerResponse) => {
    const body = JSON.stringify({
      jobs: worker.scheduler.status(),
      keys: worker.ring.keys().map(({ kid, status, createdAt, activatedAt }) => ({
        kid,
        status,
        createdAt,
        activatedAt,
      })),
    });
    res
      .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(body);
  };
  const server = createServer(
    worker.health.handler({
      fallback: (req, res) => {
        if (req.method === 'GET' && req.url === '/status') return status(res);
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      },
    }),
  );
  // #endregion status
  server.on('error', (err) => void fail(err));
  worker.health.attach(server);
  worker.health.onShutdown(() => release());
  server.listen(env.health.port, env.health.host, () => {
    const { port } = server.address() as AddressInfo;
    log('listening', {
      url: `http://${env.health.host}:${port}`,
      routes: ['/health', '/health/full', '/status'],
    });
    worker.scheduler.start();
  });
  // #region shutdown
  // SIGTERM (or Ctrl-C): the run under way is aborted and cleaned up, then the process exits,
  // 0 when everything closed in time. A second signal exits at once.
  const shutdown = async (signal: string) => {
    process.once(signal, () => process.exit(130));
    log('shutting-down', { signal });
    const clean = await worker.health.shutdown();
    log('stopped', { clean });
    process.exit(clean ? 0 : 1);
  };
  process.once('SIGTERM', shutdown).once('SIGINT', shutdown);
  // #endregion shutdown
} catch (err) {
  await fail(err);
}
