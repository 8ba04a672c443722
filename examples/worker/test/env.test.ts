import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey } from '@org/backup-crypto';
import { describe, expect, it } from 'vitest';
import { workerEnv } from '../src/env.js';

const dataDir = () => mkdtempSync(join(tmpdir(), 'example-worker-env-'));

describe('the backup keys the worker reads', () => {
  it('takes BACKUP_ENCRYPTION_KEY and BACKUP_ENCRYPTION_OLD_KEYS, the names of the SDK', () => {
    const [key, old1, old2] = [generateKey(), generateKey(), generateKey()];
    const env = workerEnv({
      DATA_DIR: dataDir(),
      BACKUP_ENCRYPTION_KEY: key,
      BACKUP_ENCRYPTION_OLD_KEYS: `${old1}, ${old2}`,
    });
    expect(env.backupKeys).toEqual([key, old1, old2]);
    expect(env.notices.join('\n')).not.toContain('BACKUP_ENCRYPTION_KEY is not set');
  });

  it('refuses the old names rather than falling back to a development key', () => {
    for (const name of ['BACKUP_KEY', 'BACKUP_OLD_KEYS']) {
      expect(() => workerEnv({ DATA_DIR: dataDir(), [name]: generateKey() })).toThrow(
        expect.objectContaining({
          message: expect.stringContaining(`rename it BACKUP_ENCRYPTION_`),
        }),
      );
    }
  });

  it('remote targets without BACKUP_ENCRYPTION_KEY: an error that names it', () => {
    expect(() =>
      workerEnv({ DATA_DIR: dataDir(), S3_BUCKET: 'b', S3_ENDPOINT: 'http://127.0.0.1:9' }),
    ).toThrow(/Set BACKUP_ENCRYPTION_KEY/);
  });
});
