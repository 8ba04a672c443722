import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage } from '@org/storage';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../src/index.js';
import { fillDatabase, freshDatabase, newKey, pgAvailable, sql } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(pgAvailable)('an aborted run behind a lock', () => {
  let source: Awaited<ReturnType<typeof freshDatabase>>;
  let locker: pg.Client | undefined;

  beforeAll(async () => {
    source = await freshDatabase('abort');
    await fillDatabase(source.url, 10);
  });
  afterAll(async () => {
    await locker?.end().catch(() => {});
    await source?.drop();
  });

  /** Backends on the database other than the locker's and the query's own. */
  const others = async (lockerPid: number) =>
    Number(
      (
        await sql(
          source.url,
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> ${lockerPid}`,
        )
      )[0]!.n,
    );

  it('rejects at once and ends its backends (checksum query and pg_dump) while the lock still holds', async () => {
    locker = new pg.Client({ connectionString: source.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE notes IN ACCESS EXCLUSIVE MODE');
    const lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
      .rows[0]!.pid;
    const storage = createStorage({ local: { root: await mkdtemp(join(tmpdir(), 'abort-')) } });
    const backup = createBackup({
      database: { url: source.url },
      targets: { disk: storage },
      key: newKey(),
    });
    const ac = new AbortController();
    const run = backup.run({ signal: ac.signal });
    run.catch(() => {});
    // Both the checksum query and pg_dump wait on the lock.
    const waiting = async () =>
      Number(
        (
          await sql(
            source.url,
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          )
        )[0]!.n,
      );
    const until = performance.now() + 10_000;
    while ((await waiting()) < 2 && performance.now() < until) await sleep(50);
    expect(await waiting()).toBe(2);

    const t0 = performance.now();
    ac.abort();
    await expect(run).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(performance.now() - t0).toBeLessThan(1_000);
    // The lock still holds: nothing of the run may be left on the server.
    const deadline = performance.now() + 4_000;
    while ((await others(lockerPid)) > 0 && performance.now() < deadline) await sleep(100);
    expect(await others(lockerPid)).toBe(0);
    await locker.query('ROLLBACK');
    await backup.close();
    await storage.close();
  }, 30_000);
});
