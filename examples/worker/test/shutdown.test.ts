import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createBackup } from '@org/backup';
import { createStorage } from '@org/storage';
import { serverAvailable } from '@org/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG, pgUrl, psql, startWorker, type WorkerProcess } from './support/worker-process.js';

const run = promisify(execFile);
const pgUp = await serverAvailable('PostgreSQL', 5432);

describe.runIf(pgUp)('SIGTERM while a backup runs', () => {
  const database = `worker_shutdown_${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'example-worker-shutdown-'));
  let locker: ChildProcess | undefined;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    await psql('postgres', `CREATE DATABASE ${database}`);
    await psql(database, 'CREATE TABLE orders AS SELECT i AS id FROM generate_series(1, 100) AS i');
  });

  afterAll(async () => {
    await worker?.kill();
    locker?.kill('SIGKILL');
    await psql('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the run under way is aborted (its pg_dump stopped, nothing listed as complete, no connection left while the lock still holds) and the process exits 0 within its bound', async () => {
    // A migration holding an exclusive lock: the backup's snapshot waits on it, as long as it lasts.
    locker = spawn(
      'psql',
      ['-X', '-w', '-c', 'BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          PGHOST: PG.host,
          PGPORT: String(PG.port),
          PGUSER: PG.user,
          PGDATABASE: database,
        },
        stdio: 'ignore',
      },
    );
    const locked = async () =>
      (await psql(
        database,
        "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'orders'::regclass",
      )) === '1';
    while (!(await locked())) await new Promise((r) => setTimeout(r, 50));

    worker = startWorker({ DATABASE_URL: pgUrl(database), DATA_DIR: dataDir, HEALTH_PORT: '0' });
    await worker.waitFor((e) => e.event === 'run-started' && e.job === 'backup-r2', 15_000);
    // The backup is stuck behind the lock: it waits, it does not fail.
    const waiting = async () =>
      Number(
        await psql(
          database,
          "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        ),
      ) > 0;
    const until = performance.now() + 10_000;
    while (!(await waiting()) && performance.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    expect(await waiting()).toBe(true);

    const t0 = performance.now();
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - t0).toBeLessThan(5_000);
    const finished = worker.events().filter((e) => e.event === 'run-finished');
    expect(finished.map((e) => [e.job, e.outcome])).toEqual([['backup-r2', 'aborted']]);
    expect(worker.events().at(-1)).toMatchObject({ event: 'stopped', clean: true });

    // No pg_dump of the worker is left running.
    const { stdout: ps } = await run('ps', ['-eo', 'args']);
    expect(ps.split('\n').filter((l) => l.startsWith('pg_dump') && l.includes(database))).toEqual(
      [],
    );
    // A backend waiting on a lock outlives its client: the aborted run ends its own, so nothing
    // of the worker is left on the server while the migration still holds the lock.
    const workerBackends = () =>
      psql(
        database,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query NOT LIKE '%pg_sleep(60)%'",
      );
    const bound = performance.now() + 4_000;
    while ((await workerBackends()) !== '0' && performance.now() < bound)
      await new Promise((r) => setTimeout(r, 100));
    expect(await workerBackends()).toBe('0');
    await psql(
      database,
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
    );
    const connected = () =>
      psql(
        database,
        'SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
    const deadline = performance.now() + 5_000;
    while ((await connected()) !== '0' && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await connected()).toBe('0');
    const key = readFileSync(join(dataDir, 'backup.key'), 'utf8').trim();
    const storage = createStorage({ local: { root: join(dataDir, 'backups', 'r2') } });
    try {
      const backup = createBackup({
        database: { url: pgUrl(database) },
        targets: { r2: storage },
        key,
      });
      expect((await backup.list()).filter((b) => b.status === 'complete')).toEqual([]);
    } finally {
      await storage.close();
    }
  }, 30_000);
});
