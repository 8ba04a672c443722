import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Fernet } from '@org/backup-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../src/index.js';
import { fillDatabase, freshDatabase, localStorage, newKey, pgAvailable, sql } from './harness.js';

const run = promisify(execFile);

describe.runIf(pgAvailable)(
  'backups made the legacy way: one Fernet token over a whole pg_dump file',
  () => {
    let source: Awaited<ReturnType<typeof freshDatabase>>;
    const drops: (() => Promise<void>)[] = [];
    const key = newKey();

    beforeAll(async () => {
      source = await freshDatabase('src');
      await fillDatabase(source.url, 300);
    });
    afterAll(async () => {
      for (const d of drops) await d();
      await source?.drop();
    });

    const dump = async (format: 'custom' | 'plain') => {
      const { stdout } = await run(
        'pg_dump',
        [`--format=${format}`, '--no-owner', `--dbname=${source.url}`],
        {
          encoding: 'buffer',
          maxBuffer: 256 * 1024 * 1024,
        },
      );
      return stdout;
    };

    for (const format of ['custom', 'plain'] as const) {
      it(`restores a ${format}-format dump encrypted as one token (what Python's decrypt_backup reads)`, async () => {
        const storage = await localStorage();
        // Python: Fernet(key).encrypt(open('dump', 'rb').read()), written as is.
        await storage.put(
          `legacy/nightly-${format}.dump.enc`,
          new Fernet(key).encrypt(await dump(format)),
        );
        const db = await freshDatabase('dst');
        drops.push(db.drop);
        const backup = createBackup({
          database: { url: source.url },
          targets: { old: storage },
          key: [newKey(), key],
        });
        const result = await backup.restore(
          { key: `legacy/nightly-${format}.dump.enc` },
          { to: db.url },
        );
        expect(result.format).toBe('legacy-fernet');
        expect(await sql(db.url, 'SELECT count(*)::int AS n FROM billing.invoices')).toEqual([
          { n: 75 },
        ]);
        expect(await sql(db.url, 'SELECT count(*)::int AS n FROM blobs')).toEqual([{ n: 300 }]);
      });
    }

    it('a legacy file under a key that is not configured, or altered, is refused before the target is touched', async () => {
      const storage = await localStorage();
      const token = new Fernet(key).encrypt(await dump('custom'));
      await storage.put('legacy/a.enc', token);
      const db = await freshDatabase('dst');
      drops.push(db.drop);
      await sql(db.url, 'CREATE TABLE marker (v int)');
      const wrong = createBackup({
        database: { url: source.url },
        targets: { old: storage },
        key: newKey(),
      });
      await expect(
        wrong.restore({ key: 'legacy/a.enc' }, { to: db.url, force: true }),
      ).rejects.toMatchObject({
        code: 'ERR_BACKUP_KEY_MISSING',
      });
      const altered = `${token.slice(0, 1000)}${token[1000] === 'A' ? 'B' : 'A'}${token.slice(1001)}`;
      await storage.put('legacy/b.enc', altered);
      const right = createBackup({ database: { url: source.url }, targets: { old: storage }, key });
      await expect(
        right.restore({ key: 'legacy/b.enc' }, { to: db.url, force: true }),
      ).rejects.toMatchObject({
        code: expect.stringMatching(/^ERR_BACKUP_(KEY_MISSING|INTEGRITY)$/),
      });
      expect(
        await sql(
          db.url,
          "SELECT relname FROM pg_class WHERE relname IN ('blobs', 'marker') ORDER BY 1",
        ),
      ).toEqual([{ relname: 'marker' }]);
    });

    it('a data object of this package restores by key too (its format is detected)', async () => {
      const storage = await localStorage();
      const backup = createBackup({
        database: { url: source.url },
        targets: { t: storage },
        key,
        tableChecksums: false,
      });
      const made = await backup.run();
      expect(made.manifest.tables).toEqual([]);
      const db = await freshDatabase('dst');
      drops.push(db.drop);
      const result = await backup.restore({ key: made.manifest.object }, { to: db.url });
      expect(result.format).toBe('pg-custom+chunked-fernet');
      expect(await sql(db.url, 'SELECT count(*)::int AS n FROM notes')).toEqual([{ n: 300 }]);
    });
  },
);
