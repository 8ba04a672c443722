import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/index.js';
import { dbTarget, tableStats, withClient } from '../src/pg.js';
import {
  fillDatabase,
  freshDatabase,
  motoAvailable,
  newKey,
  pgAvailable,
  sql,
  startMoto,
} from './harness.js';

/**
 * About 1 GB of rows backed up to two moto buckets and restored by the CLI running as a child
 * process, whose peak RSS (VmHWM) is read from /proc while it runs. Run with BACKUP_BIG=1; the
 * figures go to the README.
 */
const big = process.env.BACKUP_BIG === '1';
const SCALE = Number(process.env.BACKUP_BIG_SCALE ?? 600_000);

interface Measured {
  code: number | null;
  out: string;
  err: string;
  peakRssMiB: number;
  seconds: number;
}

function runCli(args: string[], env: Record<string, string>): Promise<Measured> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--conditions=@org/source',
      '--import',
      'tsx',
      join(import.meta.dirname, '../src/cli.ts'),
      ...args,
    ],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  let peak = 0;
  child.stdout.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c;
  });
  const timer = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      // The process is gone.
    }
  }, 50);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, out, err, peakRssMiB: peak, seconds: (performance.now() - started) / 1000 });
    });
  });
}

describe.runIf(big && pgAvailable && motoAvailable)(
  'about 1 GB through the CLI (BACKUP_BIG=1)',
  () => {
    let moto: Awaited<ReturnType<typeof startMoto>>;
    let source: Awaited<ReturnType<typeof freshDatabase>>;
    let dest: Awaited<ReturnType<typeof freshDatabase>>;

    beforeAll(async () => {
      moto = await startMoto();
      source = await freshDatabase('big');
      dest = await freshDatabase('bigdst');
      await fillDatabase(source.url, SCALE);
    }, 1_800_000);
    afterAll(async () => {
      await dest?.drop();
      await source?.drop();
      await moto?.stop();
    });

    it('backs up to two buckets in bounded memory, restores, and every table matches', async () => {
      const [{ size }] = (await sql<{ size: string }>(
        source.url,
        `SELECT pg_database_size(current_database())::text AS size`,
      )) as [{ size: string }];
      const s3 = (bucket: string) => ({
        s3: {
          bucket,
          endpoint: moto.endpoint,
          region: 'us-east-1',
          forcePathStyle: true,
          accessKeyIdEnv: 'K',
          secretAccessKeyEnv: 'S',
        },
      });
      const buckets = ['big-r2', 'big-s3'];
      for (const b of buckets) await moto.admin.send(new CreateBucketCommand({ Bucket: b }));
      const dir = await mkdtemp(join(tmpdir(), 'backup-big-'));
      const config = join(dir, 'backup.config.json');
      await writeFile(
        config,
        JSON.stringify({ targets: { r2: s3(buckets[0]!), s3: s3(buckets[1]!) } }),
      );
      const env = {
        DATABASE_URL: source.url,
        BACKUP_ENCRYPTION_KEY: newKey(),
        BACKUP_CONFIG: config,
        K: 'test',
        S: 'test',
      };

      const run = await runCli(['run', '--json'], env);
      expect(run.code, run.err).toBe(0);
      const result = JSON.parse(run.out) as { manifest: Manifest };
      const m = result.manifest;
      const restore = await runCli(
        ['restore', 'latest', '--target', 's3', '--to', dest.url, '--json'],
        env,
      );
      expect(restore.code, restore.err).toBe(0);
      const after = await withClient(dbTarget(dest.url, 'to'), undefined, tableStats);
      expect(after).toEqual(m.tables);
      const MB = 1e6;
      const report = {
        databaseBytes: Number(size),
        dumpBytes: m.plaintext.bytes,
        storedBytes: m.ciphertext.bytes,
        run: {
          seconds: run.seconds,
          dumpMBps: m.plaintext.bytes / MB / run.seconds,
          peakRssMiB: run.peakRssMiB,
        },
        restore: {
          seconds: restore.seconds,
          dumpMBps: m.plaintext.bytes / MB / restore.seconds,
          peakRssMiB: restore.peakRssMiB,
        },
        tables: m.tables,
      };
      console.log(`BACKUP_BIG ${JSON.stringify(report)}`);
      expect(run.peakRssMiB).toBeLessThan(400);
      expect(restore.peakRssMiB).toBeLessThan(400);
    }, 3_600_000);
  },
);
