import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage } from '@org/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../src/index.js';
import { fillDatabase, freshDatabase, newKey, pgAvailable } from './harness.js';

describe.runIf(pgAvailable)('two backups made within one second', () => {
  let source: Awaited<ReturnType<typeof freshDatabase>>;
  let root: string;
  beforeAll(async () => {
    source = await freshDatabase('same');
    await fillDatabase(source.url, 5);
    root = await mkdtemp(join(tmpdir(), 'bk-same-second-'));
  });
  afterAll(async () => {
    await source?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('list (and so latest) puts the one made last first, whatever their random suffixes', async () => {
    // Ids carry the second only: within one second the random suffix decided the order.
    let now = Date.parse('2026-12-04T21:09:18.100Z');
    const backup = createBackup({
      database: { url: source.url },
      targets: { local: createStorage({ local: { root } }) },
      key: newKey(),
      clock: { now: () => now },
    });
    try {
      const made: string[] = [];
      for (let i = 0; i < 6; i++) {
        now += 100; // six backups within 18.2 s … 18.7 s
        made.push((await backup.run({ tag: `n${i}` })).id);
      }
      const listed = await backup.list();
      expect(listed.map((e) => e.tag)).toEqual(['n5', 'n4', 'n3', 'n2', 'n1', 'n0']);
      expect(listed[0]!.id).toBe(made[5]);
      // What `latest` means to verify and restore.
      expect((await backup.verify('latest')).id).toBe(made[5]);
    } finally {
      await backup.close();
    }
  });
});
