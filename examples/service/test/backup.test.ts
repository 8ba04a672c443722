import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateKey } from '@org/backup-crypto';
import { hasCommand, programAvailable, serverAvailable } from '@org/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, type Service } from '../src/server.js';

// The backup feature on the machine's PostgreSQL: a scratch database made and dropped here,
// backed up to a local-disk target under a temporary BACKUP_DIR.
const run = promisify(execFile);
const ADMIN = 'postgres://postgres@127.0.0.1:5432/test';
const DB = `example_service_backup_${process.pid}`;
const TOKEN = 'x'.repeat(20) + Math.random().toString(36).slice(2).padEnd(20, '0');
const psql = (url: string, sql: string) =>
  run('psql', ['--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-q', '-d', url, '-c', sql], {
    timeout: 30_000,
  });

const ready =
  (await serverAvailable('PostgreSQL', 5432)) &&
  (await programAvailable(
    'the PostgreSQL client tools (psql, pg_dump)',
    async () => (await hasCommand('psql')) && hasCommand('pg_dump'),
  ));

async function start(env: Record<string, string | undefined>): Promise<{
  service: Service;
  base: string;
}> {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const service = await createService({ shutdownDelay: 0, drainTimeout: 1_000 });
  await new Promise<void>((r) => service.server.listen(0, '127.0.0.1', r));
  return {
    service,
    base: `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`,
  };
}

const storageRoot = mkdtempSync(join(tmpdir(), 'example-service-backup-storage-'));
process.env.STORAGE_ROOT = storageRoot;
delete process.env.REDIS_URL;
delete process.env.AWS_S3_BUCKET;
delete process.env.BACKUP_CONFIG;
afterAll(() => rmSync(storageRoot, { recursive: true, force: true }));

describe('backup trigger, off by default', () => {
  it('answers 404 naming the variables that turn it on; the report has no backup check', async () => {
    const { service, base } = await start({
      BACKUP_TRIGGER_TOKEN: undefined,
      DATABASE_URL: undefined,
    });
    try {
      for (const [method, path] of [
        ['POST', '/backup'],
        ['GET', '/backup/abc'],
        ['GET', '/backup'],
      ] as const) {
        const res = await fetch(`${base}${path}`, { method });
        expect(res.status).toBe(404);
        const body = (await res.json()) as { enable: string };
        expect(body.enable).toContain('BACKUP_TRIGGER_TOKEN');
        expect(body.enable).toContain('DATABASE_URL');
      }
      const routes = (await (await fetch(`${base}/`)).json()) as { routes: string[] };
      expect(routes.routes).toContain('POST /backup');
      const full = (await (await fetch(`${base}/health/full`)).json()) as {
        checks: Record<string, unknown>;
      };
      expect(full.checks).not.toHaveProperty('backup');
      const status = (await (await fetch(`${base}/status.json`)).json()) as { backup: unknown };
      expect(status.backup).toEqual({ enabled: false, last: null });
    } finally {
      await service.close();
    }
  });

  it('refuses to start with a token shorter than 32 characters, without echoing it', async () => {
    const short = 'short-token-1234';
    await expect(
      start({
        BACKUP_TRIGGER_TOKEN: short,
        DATABASE_URL: ADMIN,
        BACKUP_ENCRYPTION_KEY: generateKey(),
      }),
    ).rejects.toSatisfy(
      (err: Error & { code?: string }) =>
        err.code === 'ERR_BACKUP_INVALID_OPTION' && !err.message.includes(short),
    );
  });
});

describe.runIf(ready)('backup trigger on PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'example-service-backups-'));
  const url = Object.assign(new URL(ADMIN), { pathname: `/${DB}` }).toString();
  let service: Service;
  let base = '';
  beforeAll(async () => {
    await psql(ADMIN, `DROP DATABASE IF EXISTS ${DB}`);
    await psql(ADMIN, `CREATE DATABASE ${DB}`);
    await psql(
      url,
      `CREATE TABLE jobs (id serial PRIMARY KEY, title text);
       INSERT INTO jobs (title) SELECT 'job ' || g FROM generate_series(1, 500) g`,
    );
    ({ service, base } = await start({
      BACKUP_TRIGGER_TOKEN: TOKEN,
      DATABASE_URL: url,
      BACKUP_ENCRYPTION_KEY: generateKey(),
      BACKUP_DIR: dir,
    }));
  }, 60_000);
  afterAll(async () => {
    await service?.close();
    await psql(ADMIN, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  // `null`: no token header at all (an `undefined` argument would take the default).
  const call = (path: string, init: RequestInit = {}, token: string | null = TOKEN) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: { ...(token === null ? {} : { 'x-backup-token': token }), ...init.headers },
    });

  it('a wrong or missing token is 401, and starts nothing', async () => {
    const wrong = await call('/backup', { method: 'POST' }, `${TOKEN.slice(0, -1)}!`);
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain(TOKEN.slice(0, 8));
    expect((await call('/backup', { method: 'POST' }, null)).status).toBe(401);
    expect((await call('/backup/00000000-0000', {}, 'nope')).status).toBe(401);
    expect((await call('/backup', { method: 'GET' })).headers.get('allow')).toBe('POST');
    const status = (await (await fetch(`${base}/status.json`)).json()) as { backup: unknown };
    expect(status.backup).toEqual({ enabled: true, last: null });
  });

  it('POST /backup → 202; GET /backup/:id until succeeded; the status page shows it', async () => {
    const res = await call('/backup', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tag: 'example-test' }),
    });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    expect(res.headers.get('location')).toBe(`/backup/${runId}`);

    let state: { status: string; result?: { id: string; status: string }; error?: unknown } = {
      status: 'running',
    };
    const until = Date.now() + 60_000;
    while (state.status === 'running' && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      const got = await call(`/backup/${runId}`);
      expect(got.status).toBe(200);
      state = (await got.json()) as typeof state;
    }
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('succeeded');
    expect(state.result?.status).toBe('complete');

    const status = (await (await fetch(`${base}/status.json`)).json()) as {
      backup: { enabled: boolean; last: { runId: string; status: string; durationMs: number } };
    };
    expect(status.backup.enabled).toBe(true);
    expect(status.backup.last).toMatchObject({ runId, status: 'succeeded' });
    expect(status.backup.last.durationMs).toBeGreaterThan(0);
    expect(JSON.stringify(status)).not.toContain(TOKEN);
  }, 90_000);

  it('the full health report carries the last verified backup check (none verified yet)', async () => {
    const res = await fetch(`${base}/health/full`);
    const report = (await res.json()) as {
      status: string;
      checks: Record<string, { status: string; critical: boolean; details?: unknown }>;
    };
    const check = report.checks.backup;
    expect(check).toBeDefined();
    // Backed up but never restore-tested: the check fails, non-critical, so the report degrades.
    expect(check?.status).toBe('fail');
    expect(check?.critical).toBe(false);
    expect(report.status).toBe('degraded');
  });

  it('graceful shutdown aborts a running backup: its pg_dump is gone once the closers ran', async () => {
    // A table locked by another session holds pg_dump until the shutdown aborts it.
    const lock = execFile(
      'psql',
      ['--no-psqlrc', '-q', '-d', url, '-c', 'BEGIN; LOCK TABLE jobs; SELECT pg_sleep(30);'],
      { timeout: 40_000 },
    );
    try {
      const until = Date.now() + 10_000;
      const locked = async () =>
        (
          await run(
            'psql',
            [
              '--no-psqlrc',
              '-tA',
              '-d',
              ADMIN,
              '-c',
              `SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = '${DB}' AND l.mode = 'AccessExclusiveLock' AND l.granted`,
            ],
            { timeout: 10_000 },
          )
        ).stdout.trim() !== '0';
      while (!(await locked()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      const res = await call('/backup', { method: 'POST' });
      expect(res.status).toBe(202);
      // The run's backends (pg_dump's, or its checksum query's) are waiting on the lock now.
      const waiting = async () =>
        (
          await run(
            'psql',
            [
              '--no-psqlrc',
              '-tA',
              '-d',
              ADMIN,
              '-c',
              `SELECT count(*) FROM pg_stat_activity WHERE datname = '${DB}' AND wait_event_type = 'Lock'`,
            ],
            { timeout: 10_000 },
          )
        ).stdout.trim();
      const blockedUntil = Date.now() + 10_000;
      while ((await waiting()) === '0' && Date.now() < blockedUntil)
        await new Promise((r) => setTimeout(r, 50));
      expect(await waiting()).not.toBe('0');
      const started = Date.now();
      await service.shutdown();
      expect(Date.now() - started).toBeLessThan(15_000);
      const { stdout } = await run(
        'psql',
        [
          '--no-psqlrc',
          '-tA',
          '-d',
          ADMIN,
          '-c',
          `SELECT count(*) FROM pg_stat_activity WHERE datname = '${DB}' AND application_name ILIKE '%pg_dump%'`,
        ],
        { timeout: 10_000 },
      );
      expect(stdout.trim()).toBe('0');
      expect(await waiting()).toBe('0');
    } finally {
      lock.kill();
    }
  }, 60_000);
});
