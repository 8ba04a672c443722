import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackup } from '@org/backup';
import { generateKey } from '@org/backup-crypto';
import { createStorage } from '@org/storage';
import { serverAvailable } from '@org/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgUrl, psql, startWorker, type WorkerProcess } from './support/worker-process.js';

const pgUp = await serverAvailable('PostgreSQL', 5432);

// The three processes are independent (their own data folders): they run side by side.
describe.runIf(pgUp).concurrent('the worker, started as its README says', () => {
  const database = `worker_smoke_${randomBytes(4).toString('hex')}`;
  const dirs: string[] = [];
  const running: WorkerProcess[] = [];
  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'example-worker-'));
    dirs.push(dir);
    return dir;
  };
  const start = (env: Record<string, string>) => {
    const w = startWorker(env);
    running.push(w);
    return w;
  };
  const listed = async (dataDir: string, key: string) => {
    const storage = createStorage({ local: { root: join(dataDir, 'backups', 'r2') } });
    const backup = createBackup({
      database: { url: pgUrl(database) },
      targets: { r2: storage },
      key,
    });
    try {
      return await backup.list();
    } finally {
      await storage.close();
    }
  };

  beforeAll(async () => {
    await psql('postgres', `CREATE DATABASE ${database}`);
    await psql(
      database,
      `CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL, prefs jsonb, avatar bytea, created timestamptz DEFAULT now());
       INSERT INTO accounts (email, prefs, avatar)
         SELECT 'user' || i || '@example.com', jsonb_build_object('n', i), decode(md5(i::text), 'hex')
         FROM generate_series(1, 2000) AS i;`,
    );
  });

  afterAll(async () => {
    for (const w of running) await w.kill();
    await psql('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('with no configuration but its database: backs up to both targets, verifies, rotates a key, answers health, exits 0 on SIGTERM; a restart does not run again', async () => {
    const dataDir = scratch();
    const env = {
      DATABASE_URL: pgUrl(database),
      DATA_DIR: dataDir,
      HEALTH_PORT: '0',
      KEY_ROTATION_EVERY: '3s',
    };
    const worker = start(env);
    const ok = (job: string) => (e: Record<string, unknown>) =>
      e.event === 'run-finished' && e.job === job && e.outcome === 'ok';
    const listening = await worker.waitFor((e) => e.event === 'listening', 15_000);
    const base = String(listening.url);
    await worker.waitFor(ok('backup-r2'), 10_000);
    await worker.waitFor(ok('backup-s3'), 10_000);
    const verified = await worker.waitFor(ok('verify'), 15_000);
    expect(verified.summary).toMatchObject({ r2: { tables: 1 }, s3: { tables: 1 } });
    const rotated = await worker.waitFor((e) => e.event === 'key-rotated', 10_000);
    expect(rotated.previousKid).toEqual(expect.any(String));
    expect(rotated.kid).not.toBe(rotated.previousKid);
    // The ring is in the shared file store, where API instances read it.
    const ring = JSON.parse(readFileSync(join(dataDir, 'keyring.json'), 'utf8')) as {
      keys: { kid: string; status: string }[];
    };
    expect(ring.keys.find((k) => k.status === 'active')?.kid).toBe(rotated.kid);
    expect(ring.keys.some((k) => k.kid === rotated.previousKid && k.status === 'verify-only')).toBe(
      true,
    );

    const quick = await fetch(`${base}/health`);
    expect(quick.status).toBe(200);
    expect(await quick.json()).toEqual({ status: 'healthy', database: 'ok' });
    const full = (await (await fetch(`${base}/health/full`)).json()) as {
      status: string;
      checks: Record<string, { status: string; observedValue?: number }>;
    };
    expect(full.status).toBe('healthy');
    expect(full.checks.backup).toMatchObject({ status: 'ok' });
    expect(full.checks.backup?.observedValue).toBeLessThan(60);
    expect(full.checks['target-r2']?.status).toBe('ok');
    expect(full.checks['target-s3']?.status).toBe('ok');
    const status = (await (await fetch(`${base}/status`)).json()) as {
      jobs: { job: string; outcome?: string }[];
    };
    expect(status.jobs.map((j) => [j.job, j.outcome])).toEqual(
      expect.arrayContaining([
        ['backup-r2', 'ok'],
        ['backup-s3', 'ok'],
        ['verify', 'ok'],
      ]),
    );
    const key = readFileSync(join(dataDir, 'backup.key'), 'utf8').trim();
    const backups = await listed(dataDir, key);
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatchObject({ status: 'complete', verifiedAt: expect.any(Date) });

    const t0 = performance.now();
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - t0).toBeLessThan(5_000);
    expect(worker.events().at(-1)).toMatchObject({ event: 'stopped', clean: true });

    // A restart reads the last runs from the target: nothing is due for a day (backups) or a month (verify).
    const again = start(env);
    await again.waitFor((e) => e.event === 'listening', 15_000);
    await new Promise((r) => setTimeout(r, 1_000));
    again.child.kill('SIGTERM');
    expect(await again.exited).toMatchObject({ code: 0 });
    const jobs = again
      .events()
      .filter((e) => e.event === 'run-started')
      .map((e) => e.job);
    expect(jobs.filter((j) => j !== 'rotate')).toEqual([]);
    expect(await listed(dataDir, key)).toHaveLength(1);
    expect(worker.stderr() + again.stderr()).toBe('');
  }, 30_000);

  it('RUN_ONCE=backup (for cron): backs up what is due, exits 0, and the backup lists as complete', async () => {
    const dataDir = scratch();
    const key = generateKey();
    const worker = start({
      DATABASE_URL: pgUrl(database),
      DATA_DIR: dataDir,
      BACKUP_ENCRYPTION_KEY: key,
      RUN_ONCE: 'backup',
    });
    const exit = await worker.exited;
    expect(exit.code, worker.stdout() + worker.stderr()).toBe(0);
    const jobs = worker.events().filter((e) => e.event === 'run-finished');
    expect(jobs.map((e) => [e.job, e.outcome])).toEqual([
      ['backup-r2', 'ok'],
      ['backup-s3', 'ok'],
    ]);
    const backups = await listed(dataDir, key);
    expect(backups.map((b) => b.status)).toEqual(['complete']);
    expect(backups[0]?.manifest?.tables).toEqual([
      expect.objectContaining({ table: 'public.accounts', rows: 2000 }),
    ]);
  }, 20_000);

  it('a wrong DATABASE_URL: exits non-zero with an alert line on stderr and never prints the password', async () => {
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const worker = start({
      DATABASE_URL: pgUrl(`${database}_missing`, password),
      DATA_DIR: scratch(),
      BACKUP_ENCRYPTION_KEY: generateKey(),
      RUN_ONCE: 'backup',
    });
    const exit = await worker.exited;
    expect(exit.code).not.toBe(0);
    const alertLines = worker
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map(
        (l) => JSON.parse(l) as { message?: string; level?: string; tags?: Record<string, string> },
      );
    expect(alertLines.length).toBeGreaterThan(0);
    expect(alertLines[0]).toMatchObject({
      level: 'error',
      message: expect.stringMatching(/Backup .* failed/),
    });
    expect(worker.stdout() + worker.stderr()).not.toContain(password);
    expect(
      worker.events().filter((e) => e.event === 'run-finished' && e.outcome === 'failed'),
    ).toHaveLength(2);
  }, 20_000);
});
