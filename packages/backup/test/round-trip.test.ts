import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backup, createBackup, keyId } from '../src/index.js';
import { dbTarget, tableStats, withClient } from '../src/pg.js';
import {
  fillDatabase,
  freshDatabase,
  motoAvailable,
  newKey,
  pgAvailable,
  recordingAlerts,
  sql,
  startMoto,
} from './harness.js';

describe.runIf(pgAvailable && motoAvailable)(
  'run, list, restore and verify on PostgreSQL and two moto buckets',
  () => {
    let moto: Awaited<ReturnType<typeof startMoto>>;
    let source: Awaited<ReturnType<typeof freshDatabase>>;
    const dropLater: (() => Promise<void>)[] = [];
    let backup: Backup;
    const key = newKey();
    const alerts = recordingAlerts();

    beforeAll(async () => {
      moto = await startMoto();
      source = await freshDatabase('src');
      await fillDatabase(source.url, 2_000);
      await sql(source.url, "SELECT nextval('invoice_no') FROM generate_series(1, 17)");
      backup = createBackup({
        database: { url: source.url },
        targets: { r2: await moto.storage('r2'), s3: await moto.storage('s3') },
        key,
        alerts,
      });
    });
    afterAll(async () => {
      await backup?.close();
      for (const d of dropLater) await d();
      await source?.drop();
      await moto?.stop();
    });

    it('backs up to both targets, lists it on each, restores it into a fresh database table for table, and verifies it', async () => {
      const progress: number[] = [];
      backup.on('progress', ({ bytes, phase }) => void (phase === 'dump' && progress.push(bytes)));
      const result = await backup.run({ tag: 'pre-deploy' });
      expect(result.status).toBe('complete');
      expect(result.targets).toEqual({ r2: { status: 'complete' }, s3: { status: 'complete' } });
      const m = result.manifest;
      expect(m.keyId).toBe(keyId(key));
      expect(m.format).toBe('pg-custom+chunked-fernet');
      expect(m.tag).toBe('pre-deploy');
      expect(m.serverVersion).toMatch(/^\d+/);
      expect(m.pgDumpVersion).toMatch(/^\d+/);
      expect(m.plaintext.bytes).toBeGreaterThan(1_000_000);
      expect(m.ciphertext.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(m.tables.map((t) => t.table)).toEqual([
        'billing.invoices',
        'public.blobs',
        'public.events',
        'public.notes',
      ]);
      expect(m.tables.find((t) => t.table === 'public.blobs')!.rows).toBe(2_000);
      expect(progress.at(-1)).toBe(m.plaintext.bytes);
      expect(alerts.calls).toEqual([]);

      for (const target of ['r2', 's3']) {
        const [entry] = await backup.list({ target });
        expect(entry).toMatchObject({
          id: result.id,
          status: 'complete',
          tag: 'pre-deploy',
          bytes: m.ciphertext.bytes,
        });
      }

      const dest = await freshDatabase('dst');
      dropLater.push(dest.drop);
      const restored = await backup.restore('latest', { to: dest.url, target: 's3' });
      expect(restored).toMatchObject({ id: result.id, target: 's3', bytes: m.plaintext.bytes });
      const after = await withClient(dbTarget(dest.url, 'to'), undefined, tableStats);
      expect(after).toEqual(m.tables);
      // The sequence came back where it was.
      const [seq] = await sql<{ last_value: string }>(
        dest.url,
        'SELECT last_value FROM invoice_no',
      );
      const [orig] = await sql<{ last_value: string }>(
        source.url,
        'SELECT last_value FROM invoice_no',
      );
      expect(seq!.last_value).toBe(orig!.last_value);
      const [row] = await sql<{ at: Date; doc: { tags: unknown[] } }>(
        dest.url,
        'SELECT at, doc FROM events WHERE id = 1',
      );
      expect(row!.at.toISOString()).toBe('2026-03-29T00:31:00.000Z');
      expect(row!.doc.tags).toEqual(['a', 1]);

      const verified = await backup.verify(result.id, { target: 'r2' });
      expect(verified).toMatchObject({ id: result.id, ok: true, mismatches: [], tables: 4 });
      for (const target of ['r2', 's3']) {
        const [entry] = await backup.list({ target });
        expect(entry!.verifiedAt?.getTime()).toBe(verified.verifiedAt!.getTime());
      }
      // The scratch database is gone.
      expect(verified.scratchDatabase).toMatch(/^backup_verify_[0-9a-f]{12}$/);
      const left = await sql(
        source.url,
        `SELECT datname FROM pg_database WHERE datname = '${verified.scratchDatabase}'`,
      );
      expect(left).toEqual([]);
    });

    it('refuses a target that holds tables without force, and replaces them with it', async () => {
      const dest = await freshDatabase('dst');
      dropLater.push(dest.drop);
      await sql(
        dest.url,
        'CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, $$old$$)',
      );
      await expect(backup.restore('latest', { to: dest.url })).rejects.toMatchObject({
        code: 'ERR_BACKUP_TARGET_NOT_EMPTY',
      });
      expect(await sql(dest.url, 'SELECT body FROM notes')).toEqual([{ body: 'old' }]);
      await backup.restore('latest', { to: dest.url, force: true });
      const [{ n }] = (await sql<{ n: string }>(dest.url, 'SELECT count(*) AS n FROM notes')) as [
        { n: string },
      ];
      expect(n).toBe('2000');
    });

    it('verify notices a restore whose tables differ from the dump and keeps the failure in the manifest', async () => {
      // A manifest whose row count is not the dump's stands for a restore that lost a row.
      const storage = await moto.storage('other');
      const other = createBackup({
        database: { url: source.url },
        targets: { x: storage },
        key,
        alerts,
      });
      const run = await other.run();
      const tables = run.manifest.tables.map((t) =>
        t.table === 'public.notes' ? { ...t, rows: t.rows + 1 } : t,
      );
      await storage.put(
        `${source.name}/${run.id}.manifest.json`,
        JSON.stringify({ ...run.manifest, tables }),
      );
      const alertsBefore = alerts.calls.length;
      const result = await other.verify('latest');
      expect(result.ok).toBe(false);
      expect(result.mismatches).toEqual(['public.notes: 2000 rows, 2001 at dump time']);
      const [listed] = await other.list();
      expect(listed!.verifyFailed).toBe(true);
      expect(listed!.verifiedAt).toBeUndefined();
      expect(alerts.calls.slice(alertsBefore).map((c) => c.kind)).toEqual(['backup_verify_failed']);
    });
  },
);
