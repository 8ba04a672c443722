import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { generateKey } from '@org/backup-crypto';
import { createStorage, type Storage } from '@org/storage';
import { hasCommand, programAvailable, serverAvailable, startMotoServer } from '@org/test-utils';
import pg from 'pg';

export const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/test';

/** Whether PostgreSQL, its client tools and moto_server are here (skips with a message; fails in CI). */
export const pgAvailable =
  (await serverAvailable('PostgreSQL', 5432)) &&
  (await programAvailable(
    'pg_dump and pg_restore',
    async () => (await hasCommand('pg_dump')) && (await hasCommand('pg_restore')),
  ));
export const motoAvailable = await programAvailable('moto_server', () => hasCommand('moto_server'));

export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

/** A fresh database of this suite's own: its URL and a function that drops it. */
export async function freshDatabase(
  prefix = 'bk',
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await sql(PG_ADMIN, `CREATE DATABASE ${name}`);
  return {
    name,
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    drop: async () => void (await sql(PG_ADMIN, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

/**
 * Fills `url` with tables of bytea, jsonb, timestamptz, large text and a sequence; `scale` rows
 * of each (about 1.6 KiB of data per row in all).
 */
export async function fillDatabase(url: string, scale: number): Promise<void> {
  await sql(
    url,
    `
    CREATE SEQUENCE invoice_no START 1000;
    CREATE TABLE blobs (id bigserial PRIMARY KEY, data bytea NOT NULL);
    CREATE TABLE events (id bigserial PRIMARY KEY, doc jsonb NOT NULL, at timestamptz NOT NULL);
    CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);
    CREATE SCHEMA billing;
    CREATE TABLE billing.invoices (no bigint PRIMARY KEY DEFAULT nextval('invoice_no'), amount numeric(12,2), note text);
    INSERT INTO blobs (data) SELECT (SELECT decode(string_agg(md5(g || '-' || i), ''), 'hex') FROM generate_series(1, 16) i) FROM generate_series(1, ${scale}) g;
    `,
  );
  await sql(
    url,
    `
    INSERT INTO events (doc, at) SELECT jsonb_build_object('n', g, 'tags', jsonb_build_array('a', g % 7), 'text', repeat('é', g % 50)), '2026-03-29 00:30:00+00'::timestamptz + g * interval '1 minute' FROM generate_series(1, ${scale}) g;
    INSERT INTO notes SELECT g, repeat(md5(g::text), 32) FROM generate_series(1, ${scale}) g;
    INSERT INTO billing.invoices (amount, note) SELECT g * 1.25, CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, ${Math.ceil(scale / 4)}) g;
    `,
  );
}

/** A moto server with buckets, and a storage per bucket. */
export async function startMoto() {
  const moto = await startMotoServer();
  const connection = {
    endpoint: moto.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const admin = new S3Client(connection);
  let n = 0;
  const storages: Storage[] = [];
  return {
    moto,
    endpoint: moto.endpoint,
    admin,
    async bucket(prefix = 'backups'): Promise<string> {
      const bucket = `${prefix}-${process.pid}-${++n}`;
      await admin.send(new CreateBucketCommand({ Bucket: bucket }));
      return bucket;
    },
    async storage(prefix = 'backups'): Promise<Storage> {
      const bucket = await this.bucket(prefix);
      const s = createStorage({
        s3: { bucket, ...connection, retry: { attempts: 1 } },
        timeout: '10s',
      });
      storages.push(s);
      return s;
    },
    async stop() {
      for (const s of storages) await s.close();
      admin.destroy();
      await moto.stop();
    },
  };
}

/** Local-disk storage in a fresh temporary folder. */
export async function localStorage(): Promise<Storage> {
  const root = await mkdtemp(join(tmpdir(), 'backup-test-'));
  return createStorage({ local: { root, fsync: false } });
}

/** A `pg_dump` that dies (SIGKILL) after `bytes` of output. */
export async function dyingPgDump(bytes: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'backup-fake-'));
  const path = join(dir, 'pg_dump');
  await writeFile(
    path,
    `#!/bin/sh\nif [ "$1" = "--version" ]; then exec pg_dump --version; fi\npg_dump "$@" | head -c ${bytes}\nkill -9 $$\n`,
  );
  await chmod(path, 0o755);
  return path;
}

export const newKey = generateKey;

/** Alerts as a structural sink that records what it was given. */
export function recordingAlerts() {
  const calls: { kind: string; message: string; data: Record<string, unknown> }[] = [];
  return {
    calls,
    alert(kind: string, details: { message: string; data: Record<string, unknown> }) {
      calls.push({ kind, message: details.message, data: details.data });
      return true;
    },
  };
}

/**
 * Writes `<dir>/two.config.json`: a local target under `<dir>/disk` and an S3 target nobody
 * answers (port 9, credentials from `K` and `S`), so that every run is partial. Returns its path.
 */
export async function writeTwoTargetConfig(dir: string): Promise<string> {
  const config = join(dir, 'two.config.json');
  await writeFile(
    config,
    JSON.stringify({
      targets: {
        disk: { local: { root: join(dir, 'disk') } },
        s3: {
          s3: {
            bucket: 'nowhere',
            endpoint: 'http://127.0.0.1:9',
            region: 'us-east-1',
            forcePathStyle: true,
            accessKeyIdEnv: 'K',
            secretAccessKeyEnv: 'S',
          },
        },
      },
    }),
  );
  return config;
}
