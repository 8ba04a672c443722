import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createBackup } from '@org/backup';
import { generateKey } from '@org/backup-crypto';
import { createStorage } from '@org/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hasCommand,
  type OwnedServer,
  startMotoServer,
} from '../../../packages/test-utils/src/processes.js';
import {
  programAvailable,
  serverAvailable,
} from '../../../packages/test-utils/src/require-server.js';
import { pgUrl, psql, startWorker, type WorkerProcess } from './support/worker-process.js';

const run = promisify(execFile);
const ready =
  (await serverAvailable('PostgreSQL', 5432)) &&
  (await serverAvailable('Redis', 6379)) &&
  (await programAvailable('moto_server', () => hasCommand('moto_server')));

// moto stands in for R2 and S3; the key ring goes to the machine's Redis.
describe.runIf(ready).concurrent('R2, S3 and a Redis key ring, by configuration alone', () => {
  const database = `worker_remote_${randomBytes(4).toString('hex')}`;
  const prefix = `worker-test-${randomBytes(4).toString('hex')}:`;
  const secretKey = `sk-${randomBytes(12).toString('hex')}`;
  const dirs: string[] = [];
  const running: WorkerProcess[] = [];
  let moto: OwnedServer & { endpoint: string };
  let remote: Record<string, string>;

  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'example-worker-remote-'));
    dirs.push(dir);
    return dir;
  };
  const start = (env: Record<string, string>) => {
    const w = startWorker(env);
    running.push(w);
    return w;
  };

  beforeAll(async () => {
    moto = await startMotoServer();
    for (const bucket of ['app-r2', 'app-s3']) {
      const res = await fetch(`${moto.endpoint}/${bucket}`, { method: 'PUT' });
      expect(res.ok).toBe(true);
    }
    await psql('postgres', `CREATE DATABASE ${database}`);
    await psql(
      database,
      'CREATE TABLE notes AS SELECT i AS id, repeat(md5(i::text), 20) AS body FROM generate_series(1, 500) AS i',
    );
    remote = {
      DATABASE_URL: pgUrl(database),
      R2_BUCKET: 'app-r2',
      R2_ENDPOINT: moto.endpoint,
      R2_ACCESS_KEY_ID: 'AKIDWORKERTEST',
      R2_SECRET_ACCESS_KEY: secretKey,
      S3_BUCKET: 'app-s3',
      S3_ENDPOINT: moto.endpoint,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: 'AKIDWORKERTEST',
      S3_SECRET_ACCESS_KEY: secretKey,
      KEYRING_REDIS_URL: 'redis://127.0.0.1:6379',
      KEYRING_PREFIX: prefix,
      KEYRING_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    };
  });

  afterAll(async () => {
    for (const w of running) await w.kill();
    await moto?.stop();
    await psql('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
    await run('redis-cli', [
      '--no-raw',
      'eval',
      "for _, k in ipairs(redis.call('keys', ARGV[1])) do redis.call('del', k) end",
      '0',
      `${prefix}*`,
    ]).catch(() => {});
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('RUN_ONCE=backup stores a complete backup in each bucket; RUN_ONCE=rotate rotates the ring in Redis', async () => {
    const key = generateKey();
    const backup = start({
      ...remote,
      DATA_DIR: scratch(),
      BACKUP_ENCRYPTION_KEY: key,
      RUN_ONCE: 'backup',
    });
    expect((await backup.exited).code, backup.stdout() + backup.stderr()).toBe(0);
    for (const [target, bucket] of [
      ['r2', 'app-r2'],
      ['s3', 'app-s3'],
    ] as const) {
      const storage = createStorage({
        s3: {
          bucket,
          endpoint: moto.endpoint,
          region: 'us-east-1',
          forcePathStyle: true,
          credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
        },
      });
      try {
        const b = createBackup({
          database: { url: pgUrl(database) },
          targets: { [target]: storage },
          key,
        });
        const list = await b.list();
        expect(
          list.map((e) => e.status),
          target,
        ).toEqual(['complete']);
        // The schedule's records are kept in the r2 target, for the next run on another machine.
        if (target === 'r2') expect(await storage.exists('worker-state.json')).toBe(true);
      } finally {
        await storage.close();
      }
    }

    // KEY_ROTATION_EVERY=1ms: the ring made by the backup run is already old enough.
    const rotate = start({
      ...remote,
      DATA_DIR: scratch(),
      BACKUP_ENCRYPTION_KEY: key,
      RUN_ONCE: 'rotate',
      KEY_ROTATION_EVERY: '1ms',
    });
    const exit = await rotate.exited;
    expect(exit.code, rotate.stdout() + rotate.stderr()).toBe(0);
    const rotated = rotate.events().find((e) => e.event === 'key-rotated');
    expect(rotated).toMatchObject({ kid: expect.any(String), previousKid: expect.any(String) });
    const { stdout } = await run('redis-cli', ['--raw', 'get', `${prefix}state`]);
    expect(stdout).toContain(String(rotated?.kid));
    for (const w of [backup, rotate]) expect(w.stdout() + w.stderr()).not.toContain(secretKey);
  }, 25_000);

  it('remote targets without BACKUP_ENCRYPTION_KEY: refuses to start (exit 1) with an alert line that says what to set', async () => {
    const worker = start({ ...remote, DATA_DIR: scratch(), RUN_ONCE: 'backup' });
    const exit = await worker.exited;
    expect(exit.code).toBe(1);
    const alert = JSON.parse(
      worker
        .stderr()
        .split('\n')
        .find((l) => l.startsWith('{')) ?? '{}',
    ) as { message?: string };
    expect(alert.message).toMatch(/Set BACKUP_ENCRYPTION_KEY/);
    expect(worker.stdout() + worker.stderr()).not.toContain(secretKey);
  }, 20_000);
});
