import { createHash } from 'node:crypto';
import { createStorage, type Storage } from '@org/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup, type Manifest } from '../src/index.js';
import { localStorage, motoAvailable, newKey, startMoto } from './harness.js';

const DB = 'app';
const url = `postgres://postgres@127.0.0.1:5432/${DB}`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Stores a backup's two objects as `run` leaves them (the data object small): no database needed. */
async function storeBackup(
  storage: Storage,
  id: string,
  extra: Partial<Manifest> = {},
  withManifest = true,
) {
  const data = `data of ${id}`;
  await storage.put(`${DB}/${id}.backup`, data);
  if (!withManifest) return;
  const manifest: Manifest = {
    version: 1,
    id,
    database: DB,
    createdAt: `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:${id.slice(13, 15)}Z`,
    format: 'pg-custom+chunked-fernet',
    compression: 'gzip',
    keyId: '0123abcd',
    plaintext: { sha256: sha('p'), bytes: 1 },
    ciphertext: { sha256: sha(data), bytes: data.length },
    serverVersion: '15.0',
    pgDumpVersion: '15.0',
    durationMs: 1,
    tables: [],
    object: `${DB}/${id}.backup`,
    ...extra,
  };
  await storage.put(`${DB}/${id}.manifest.json`, JSON.stringify(manifest));
}

async function parallel<T>(items: T[], n: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const idAt = (ms: number, suffix: number) =>
  `${new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${suffix.toString(16).padStart(6, '0')}`;

describe('list', () => {
  let moto: Awaited<ReturnType<typeof startMoto>> | undefined;
  afterAll(async () => {
    await moto?.stop();
  });

  const pages = async (storage: Storage) => {
    const start = Date.UTC(2026, 0, 1);
    const ids = Array.from({ length: 1_003 }, (_, i) => idAt(start + i * 60_000, i));
    // 1,001 backups without a manifest (uploads that never finished) and two complete ones: 1,005 objects.
    await parallel(ids.slice(0, 1_001), 16, (id) => storeBackup(storage, id, {}, false));
    await storeBackup(storage, ids[1_001]!);
    await storeBackup(storage, ids[1_002]!, { tag: 'pre-deploy' });
    await storage.put(`${DB}/notes.txt`, 'not a backup');
    await storage.put(`${DB}/nested/${ids[0]}.backup`, 'not at this level');
    const backup = createBackup({ database: { url }, targets: { t: storage }, key: newKey() });
    const entries = await backup.list();
    expect(entries).toHaveLength(1_003);
    expect(entries.map((e) => e.id)).toEqual([...ids].reverse());
    expect(entries[0]).toMatchObject({
      status: 'complete',
      tag: 'pre-deploy',
      target: 't',
      database: DB,
    });
    expect(entries[1]!.status).toBe('complete');
    expect(entries.slice(2).every((e) => e.status === 'incomplete')).toBe(true);
    expect(entries.at(-1)!.createdAt.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  };

  it('pages past 1,000 objects on the local disk, newest first, incomplete where the manifest is missing', async () => {
    await pages(await localStorage());
  });

  it.runIf(motoAvailable)(
    'pages past 1,000 objects on S3 (moto)',
    async () => {
      moto = await startMoto();
      await pages(await moto.storage('paging'));
    },
    120_000,
  );

  it('a manifest that is not one of ours lists as incomplete with the reason', async () => {
    const storage = await localStorage();
    const id = idAt(Date.UTC(2026, 5, 1), 1);
    await storeBackup(storage, id);
    await storage.put(`${DB}/${id}.manifest.json`, '{"version": 1, "id": "x"}');
    const backup = createBackup({ database: { url }, targets: { t: storage }, key: newKey() });
    const [entry] = await backup.list();
    expect(entry).toMatchObject({
      id,
      status: 'incomplete',
      error: expect.stringContaining('not valid'),
    });
  });
});

describe('prune', () => {
  let storage: Storage;
  const day = 86_400_000;
  const now = Date.UTC(2026, 2, 31, 12);
  const ids: string[] = [];

  beforeAll(async () => {
    storage = await localStorage();
    // One backup a day for 10 days (the 4th missing: a gap); the newest one verified.
    for (let d = 10; d >= 1; d--) {
      if (d === 4) continue;
      const id = idAt(now - d * day, d);
      ids.push(id);
      await storeBackup(
        storage,
        id,
        d === 1
          ? {
              verification: {
                ok: true,
                verifiedAt: new Date(now - day / 2).toISOString(),
                durationMs: 5,
                mismatches: [],
              },
            }
          : {},
      );
    }
    // An upload that never finished, 3 days ago.
    await storeBackup(storage, idAt(now - 3 * day + 60_000, 99), {}, false);
  });

  const make = () =>
    createBackup({
      database: { url },
      targets: { r2: storage },
      key: newKey(),
      retention: { r2: { keepLast: 2, daily: 4 } },
      clock: { now: () => now },
    });

  it('a dry run plans without deleting anything', async () => {
    const [result] = await make().prune({ dryRun: true });
    expect(result!.dryRun).toBe(true);
    expect(result!.deleted).toEqual([]);
    // keepLast 2 and daily 4 over a gap (no backup 4 days ago): the days 1, 2, 3 and 5 stay.
    expect(result!.plan.keep.map((k) => k.id).sort()).toEqual(ids.slice(-4).sort());
    expect(result!.plan.remove.length).toBe(ids.length - 4 + 1);
    expect((await make().list({ target: 'r2' })).length).toBe(ids.length + 1);
  });

  it('deletes what the plan removes (the unfinished upload as failed), manifests first', async () => {
    const [result] = await make().prune();
    expect(result!.errors).toEqual({});
    expect(result!.deleted.sort()).toEqual(result!.plan.remove.map((r) => r.id).sort());
    expect(result!.plan.remove.find((r) => r.id.endsWith('-000063'))?.reason).toBe('failed');
    const left = (await make().list({ target: 'r2' })).map((e) => e.id);
    expect(left.sort()).toEqual(ids.slice(-4).sort());
    // Planning again removes nothing.
    const [again] = await make().prune({ dryRun: true });
    expect(again!.plan.remove).toEqual([]);
  });

  it('removes nothing while the newest backup is not verified', async () => {
    const s = await localStorage();
    for (let d = 5; d >= 1; d--) await storeBackup(s, idAt(now - d * day, d));
    const backup = createBackup({
      database: { url },
      targets: { r2: s },
      key: newKey(),
      clock: { now: () => now },
    });
    const [result] = await backup.prune({ target: 'r2', policy: { keepLast: 1 } });
    expect(result!.plan.remove).toEqual([]);
    expect(await backup.list({ target: 'r2' })).toHaveLength(5);
  });

  it('refuses a target without a policy', async () => {
    const backup = createBackup({ database: { url }, targets: { r2: storage }, key: newKey() });
    await expect(backup.prune()).rejects.toMatchObject({ code: 'ERR_BACKUP_INVALID_OPTION' });
  });

  it('a newest backup whose restore test failed holds back every deletion', async () => {
    const s = await localStorage();
    for (let d = 5; d >= 2; d--) {
      await storeBackup(s, idAt(now - d * day, d), {
        verification: {
          ok: true,
          verifiedAt: new Date(now - d * day + 3_600_000).toISOString(),
          durationMs: 1,
          mismatches: [],
        },
      });
    }
    await storeBackup(s, idAt(now - day, 1), {
      verification: { ok: false, durationMs: 1, mismatches: ['public.notes: checksum differs'] },
    });
    const backup = createBackup({
      database: { url },
      targets: { r2: s },
      key: newKey(),
      clock: { now: () => now },
    });
    const [result] = await backup.prune({ target: 'r2', policy: { keepLast: 1 } });
    // The newest backup failed its restore test: until a newer one verifies, nothing goes.
    expect(result!.plan.remove).toEqual([]);
    expect(result!.plan.keep).toHaveLength(5);
    expect(await backup.list({ target: 'r2' })).toHaveLength(5);
  });

  it("days are the configured time zone's: across the switch to summer time in Berlin", async () => {
    const s = await localStorage();
    const verified = (at: number) => ({
      verification: {
        ok: true,
        verifiedAt: new Date(at + 60_000).toISOString(),
        durationMs: 1,
        mismatches: [],
      },
    });
    const a = Date.UTC(2026, 2, 27, 12); // 27 March, Berlin and UTC
    const b = Date.UTC(2026, 2, 28, 23, 30); // 28 March in UTC, 29 March 00:30 in Berlin
    const c = Date.UTC(2026, 2, 29, 10); // 29 March, after the switch (CEST)
    for (const [at, n] of [
      [a, 1],
      [b, 2],
      [c, 3],
    ] as const)
      await storeBackup(s, idAt(at, n), verified(at));
    const plan = async (timeZone: string) => {
      const backup = createBackup({
        database: { url },
        targets: { r2: s },
        key: newKey(),
        timeZone,
        clock: { now: () => c + 3_600_000 },
      });
      const [result] = await backup.prune({ target: 'r2', policy: { daily: 2 }, dryRun: true });
      return result!.plan.remove.map((r) => r.id);
    };
    expect(await plan('Europe/Berlin')).toEqual([idAt(b, 2)]);
    expect(await plan('UTC')).toEqual([idAt(a, 1)]);
  });
});

describe('schedules as data', () => {
  it('due() names the targets whose newest complete backup is older than their interval', async () => {
    const now = Date.UTC(2026, 5, 10, 2, 15);
    const hour = 3_600_000;
    const r2 = await localStorage();
    const s3 = await localStorage();
    const spare = await localStorage();
    await storeBackup(r2, idAt(now - 20 * hour, 1));
    await storeBackup(s3, idAt(now - 3 * 24 * hour, 2));
    // An unfinished upload does not count as the newest backup.
    await storeBackup(s3, idAt(now - hour, 3), {}, false);
    const make = (at: number) =>
      createBackup({
        database: { url },
        targets: { r2, s3, spare },
        key: newKey(),
        schedule: { r2: '1d', s3: '7d' },
        clock: { now: () => at },
      });
    // r2 last ran 20 h ago: not due; s3 3 days ago: not due; spare has no schedule: always due.
    expect(await make(now).due()).toEqual(['spare']);
    // 23.5 h after the last run a daily target is due (an hour of slack for the scheduler).
    expect(await make(now + 3.5 * hour).due()).toEqual(['r2', 'spare']);
    expect(await make(now + 4 * 24 * hour).due()).toEqual(['r2', 's3', 'spare']);
  });

  it('refuses a schedule for no target, or shorter than a minute', () => {
    const base = {
      database: { url },
      targets: { r2: createStorage({ local: { root: '/tmp/x' } }) },
      key: newKey(),
    };
    expect(() => createBackup({ ...base, schedule: { s3: '1d' } })).toThrow(
      expect.objectContaining({ code: 'ERR_BACKUP_INVALID_OPTION' }),
    );
    expect(() => createBackup({ ...base, schedule: { r2: '10s' } })).toThrow(
      expect.objectContaining({ code: 'ERR_BACKUP_INVALID_OPTION' }),
    );
  });
});
