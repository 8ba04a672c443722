import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createStorage, type Storage } from '@org/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackupTarget, createBackup, keyId } from '../src/index.js';
import {
  dyingPgDump,
  fillDatabase,
  freshDatabase,
  motoAvailable,
  newKey,
  pgAvailable,
  recordingAlerts,
  sql,
  startMoto,
} from './harness.js';

/** A target whose uploads of streams break after `bytes`, as a connection cut halfway. */
function cutAfter(storage: Storage, bytes: number): BackupTarget {
  return {
    ...storage,
    put(key, body, options) {
      if (typeof body === 'string' || body instanceof Uint8Array)
        return storage.put(key, body, options);
      let seen = 0;
      const cut = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          seen += chunk.length;
          if (seen > bytes) cb(new Error(`connection reset after ${bytes} bytes`));
          else cb(null, chunk);
        },
      });
      pipeline(body as Readable, cut).catch(() => {});
      return storage.put(key, cut, options);
    },
  };
}

async function keys(storage: Storage, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list(prefix)) out.push(o.key);
  return out;
}

describe.runIf(pgAvailable && motoAvailable)('faults', () => {
  let moto: Awaited<ReturnType<typeof startMoto>>;
  let source: Awaited<ReturnType<typeof freshDatabase>>;
  const drops: (() => Promise<void>)[] = [];
  const key = newKey();

  beforeAll(async () => {
    moto = await startMoto();
    source = await freshDatabase('src');
    await fillDatabase(source.url, 2_000);
  });
  afterAll(async () => {
    for (const d of drops) await d();
    await source?.drop();
    await moto?.stop();
  });

  const fresh = async () => {
    const db = await freshDatabase('dst');
    drops.push(db.drop);
    return db;
  };

  it('one target down: a partial status, an alert, and the other target holds a good backup', async () => {
    const down = await startMoto();
    const dead = await down.storage('dead');
    await down.moto.stop();
    const r2 = await moto.storage('r2');
    const alerts = recordingAlerts();
    const backup = createBackup({
      database: { url: source.url },
      targets: { r2, s3: dead },
      key,
      alerts,
    });
    const failed: string[] = [];
    backup.on('targetFailed', ({ target }) => failed.push(target));
    const result = await backup.run();
    expect(result.status).toBe('partial');
    expect(result.targets.r2).toEqual({ status: 'complete' });
    expect(result.targets.s3!.status).toBe('failed');
    expect(failed).toEqual(['s3']);
    expect(alerts.calls.map((c) => c.kind)).toEqual(['backup_partial']);
    expect(alerts.calls[0]!.message).toContain('s3 failed');
    const db = await fresh();
    await backup.restore(result.id, { to: db.url, target: 'r2' });
    expect(await sql(db.url, 'SELECT count(*)::int AS n FROM blobs')).toEqual([{ n: 2_000 }]);
    await dead.close();
  });

  it('a moto killed in the middle of a multipart upload: partial, alerted, the other target restores', async () => {
    const big = await freshDatabase('srcbig');
    drops.push(big.drop);
    await fillDatabase(big.url, 20_000);
    const doomed = await startMoto();
    const dying = await doomed.storage('dying');
    const r2 = await moto.storage('r2');
    const alerts = recordingAlerts();
    const backup = createBackup({
      database: { url: big.url },
      targets: { r2, s3: dying },
      key,
      alerts,
    });
    let killed = false;
    backup.on('progress', ({ bytes }) => {
      if (!killed && bytes > 12_000_000) {
        killed = true;
        void doomed.moto.kill();
      }
    });
    const result = await backup.run();
    expect(killed).toBe(true);
    expect(result.status).toBe('partial');
    expect(result.targets.s3!.status).toBe('failed');
    expect(result.manifest.ciphertext.bytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(alerts.calls.map((c) => c.kind)).toEqual(['backup_partial']);
    const db = await fresh();
    await backup.restore(result.id, { to: db.url, target: 'r2' });
    expect(await sql(db.url, 'SELECT count(*)::int AS n FROM blobs')).toEqual([{ n: 20_000 }]);
    await dying.close();
    await doomed.stop();
  }, 120_000);

  it('a target that stalls (moto frozen) is dropped at its idle timeout and the run goes on', async () => {
    const frozen = await startMoto();
    const stalled = createStorage({
      s3: {
        bucket: await frozen.bucket('frozen'),
        endpoint: frozen.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        idleTimeout: '1s',
        retry: { attempts: 1 },
      },
    });
    const r2 = await moto.storage('r2');
    const alerts = recordingAlerts();
    const backup = createBackup({
      database: { url: source.url },
      targets: { r2, s3: stalled },
      key,
      alerts,
    });
    let paused = false;
    backup.on('progress', () => {
      if (!paused) {
        paused = true;
        frozen.moto.pause();
      }
    });
    const started = performance.now();
    const result = await backup.run();
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(result.status).toBe('partial');
    expect(result.targets.s3).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('timed out after 1000 ms of inactivity'),
    });
    expect((await backup.list({ target: 'r2' }))[0]).toMatchObject({
      id: result.id,
      status: 'complete',
    });
    frozen.moto.resume();
    await stalled.close();
    await frozen.stop();
  }, 60_000);

  it('an upload cut halfway leaves nothing that lists as complete; the other target completes', async () => {
    const good = await moto.storage('good');
    const raw = await moto.storage('cut');
    const alerts = recordingAlerts();
    const backup = createBackup({
      database: { url: source.url },
      targets: { good, cut: cutAfter(raw, 200_000) },
      key,
      alerts,
    });
    const result = await backup.run();
    expect(result.status).toBe('partial');
    expect(result.targets.cut).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('connection reset'),
    });
    expect((await backup.list({ target: 'cut' })).filter((e) => e.status === 'complete')).toEqual(
      [],
    );
    // The multipart upload was aborted: not even an incomplete object is left.
    expect(await keys(raw, `${source.name}/`)).toEqual([]);
    expect((await backup.list({ target: 'good' }))[0]).toMatchObject({
      id: result.id,
      status: 'complete',
    });
    expect(alerts.calls.map((c) => c.kind)).toEqual(['backup_partial']);
  });

  it('every upload cut: the run rejects, alerts, and nothing lists as complete', async () => {
    const a = await moto.storage('cut-a');
    const b = await moto.storage('cut-b');
    const alerts = recordingAlerts();
    const backup = createBackup({
      database: { url: source.url },
      targets: { a: cutAfter(a, 100_000), b: cutAfter(b, 300_000) },
      key,
      alerts,
    });
    await expect(backup.run()).rejects.toMatchObject({ code: 'ERR_BACKUP_UPLOAD_FAILED' });
    expect(alerts.calls.map((c) => c.kind)).toEqual(['backup_failed']);
    expect(await keys(a, '')).toEqual([]);
    expect(await keys(b, '')).toEqual([]);
  });

  it('pg_dump failing mid-stream leaves nothing that looks complete, and says why', async () => {
    const r2 = await moto.storage('r2');
    const s3 = await moto.storage('s3');
    const alerts = recordingAlerts();
    const backup = createBackup({
      database: { url: source.url, pgDump: await dyingPgDump(300_000) },
      targets: { r2, s3 },
      key,
      alerts,
    });
    await expect(backup.run()).rejects.toMatchObject({ code: 'ERR_BACKUP_DUMP_FAILED' });
    expect(alerts.calls.map((c) => c.kind)).toEqual(['backup_failed']);
    for (const s of [r2, s3]) expect(await keys(s, '')).toEqual([]);
    expect(await backup.list({ target: 'r2' })).toEqual([]);
  });

  it('pg_dump that cannot connect fails with its stderr, without the password', async () => {
    const r2 = await moto.storage('r2');
    const backup = createBackup({
      database: {
        url: `postgres://postgres:hunter2secret@127.0.0.1:5432/${source.name}`,
        pgDump: await dyingPgDump(0),
      },
      targets: { r2 },
      key,
    });
    const err = await backup.run().catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'ERR_BACKUP_DUMP_FAILED' });
    expect(String((err as Error).message)).not.toContain('hunter2secret');
  });

  describe('a stored backup altered after the fact', () => {
    let storage: Storage;
    let id: string;
    let object: string;
    let original: Buffer;
    const backup = () =>
      createBackup({ database: { url: source.url }, targets: { r2: storage }, key });

    beforeAll(async () => {
      storage = await moto.storage('tamper');
      const result = await backup().run();
      id = result.id;
      object = result.manifest.object;
      original = await storage.getBuffer(object);
    });

    /** A target database holding a marker table: it must be untouched by a refused restore. */
    const markedDb = async () => {
      const db = await fresh();
      await sql(db.url, "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('untouched')");
      return db;
    };
    const untouched = async (url: string) => {
      expect(await sql(url, 'SELECT v FROM marker')).toEqual([{ v: 'untouched' }]);
      expect(await sql(url, "SELECT relname FROM pg_class WHERE relname = 'blobs'")).toEqual([]);
    };

    it('a flipped byte is refused before the target is touched, even with force', async () => {
      const tampered = Buffer.from(original);
      const at = Math.floor(tampered.length / 2);
      tampered[at] = tampered[at] === 0x41 ? 0x42 : 0x41;
      await storage.put(object, tampered);
      const db = await markedDb();
      await expect(backup().restore(id, { to: db.url, force: true })).rejects.toMatchObject({
        code: 'ERR_BACKUP_INTEGRITY',
      });
      await untouched(db.url);
      await storage.put(object, original);
    });

    it('a truncated object is refused before the target is touched', async () => {
      await storage.put(object, original.subarray(0, Math.floor(original.length / 2)));
      const db = await markedDb();
      const err = await backup()
        .restore(id, { to: db.url, force: true })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_BACKUP_INTEGRITY' });
      expect(String((err as Error).message)).toContain('truncated');
      await untouched(db.url);
      await storage.put(object, original);
    });

    it('a truncated object with a manifest altered to match it is still refused (the chunked format ends with a final chunk)', async () => {
      // Cut at a chunk boundary, so that every remaining chunk is authentic.
      const lines = original.toString('latin1').split('\n');
      expect(lines.length).toBeGreaterThan(4);
      const cut = Buffer.from(`${lines.slice(0, 2).join('\n')}\n`, 'latin1');
      await storage.put(object, cut);
      const manifest = JSON.parse(
        (await storage.getBuffer(`${source.name}/${id}.manifest.json`)).toString(),
      );
      manifest.ciphertext.bytes = cut.length;
      await storage.put(`${source.name}/${id}.manifest.json`, JSON.stringify(manifest));
      const db = await markedDb();
      await expect(backup().restore(id, { to: db.url, force: true })).rejects.toMatchObject({
        code: 'ERR_BACKUP_INTEGRITY',
      });
      await untouched(db.url);
      manifest.ciphertext.bytes = original.length;
      await storage.put(`${source.name}/${id}.manifest.json`, JSON.stringify(manifest));
      await storage.put(object, original);
    });

    it('a wrong key names the key id the backup needs; the old key among the keys restores it', async () => {
      const db = await fresh();
      const other = newKey();
      const wrong = createBackup({
        database: { url: source.url },
        targets: { r2: storage },
        key: other,
      });
      const err = await wrong.restore(id, { to: db.url }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_BACKUP_KEY_MISSING' });
      expect((err as Error).message).toContain(keyId(key));
      expect((err as Error).message).not.toContain(key);
      const rotated = createBackup({
        database: { url: source.url },
        targets: { r2: storage },
        key: [other, key],
      });
      await rotated.restore(id, { to: db.url });
      expect(await sql(db.url, 'SELECT count(*)::int AS n FROM notes')).toEqual([{ n: 2_000 }]);
    });
  });

  it('an aborted run rejects with ERR_ABORTED and leaves nothing complete', async () => {
    const r2 = await moto.storage('abort');
    const backup = createBackup({ database: { url: source.url }, targets: { r2 }, key });
    const controller = new AbortController();
    backup.once('progress', () => controller.abort(new Error('deploy cancelled')));
    await expect(backup.run({ signal: controller.signal })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await keys(r2, '')).toEqual([]);
  });
});
