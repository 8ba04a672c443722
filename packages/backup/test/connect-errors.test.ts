import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage } from '@org/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupErrorCode, createBackup, isBackupError } from '../src/index.js';
import { fillDatabase, freshDatabase, newKey, pgAvailable } from './harness.js';

/** A port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bk-connect-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a database that cannot be reached is a BackupError, not a pg error', () => {
  it('run: ERR_BACKUP_DUMP_FAILED naming the server, without the password', async () => {
    const port = await closedPort();
    const backup = createBackup({
      database: { url: `postgres://app:hunter2-secret@127.0.0.1:${port}/app` },
      targets: { local: createStorage({ local: { root } }) },
      key: newKey(),
    });
    try {
      const err = await backup.run().catch((e: unknown) => e);
      expect(isBackupError(err, BackupErrorCode.DumpFailed)).toBe(true);
      const message = (err as Error).message;
      expect(message).toContain(`127.0.0.1:${port}`);
      expect(message).toContain('ECONNREFUSED');
      expect(message).not.toContain('hunter2');
    } finally {
      await backup.close();
    }
  });
});

describe.runIf(pgAvailable)('a restore target that cannot be reached', () => {
  let source: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    source = await freshDatabase('conn');
    await fillDatabase(source.url, 10);
  });
  afterAll(async () => {
    await source?.drop();
  });

  it('restore into a database that does not exist: ERR_BACKUP_RESTORE_FAILED saying so', async () => {
    const backup = createBackup({
      database: { url: source.url },
      targets: { local: createStorage({ local: { root: join(root, 'restore') } }) },
      key: newKey(),
    });
    try {
      await backup.run();
      const missing = `${source.name}_missing`;
      const err = await backup
        .restore('latest', { to: `postgres://postgres:pw-secret@127.0.0.1:5432/${missing}` })
        .catch((e: unknown) => e);
      expect(isBackupError(err, BackupErrorCode.RestoreFailed)).toBe(true);
      const message = (err as Error).message;
      expect(message).toContain(`database "${missing}" does not exist`);
      expect(message).not.toContain('pw-secret');
    } finally {
      await backup.close();
    }
  });
});
