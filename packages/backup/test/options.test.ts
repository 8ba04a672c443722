import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createStorage } from '@org/storage';
import { describe, expect, it } from 'vitest';
import { type BackupOptions, createBackup } from '../src/index.js';
import { compressor, decompressor, zstdAvailable } from '../src/streams.js';
import { newKey } from './harness.js';

const base = (): BackupOptions => ({
  database: { url: 'postgres://app:pw@127.0.0.1:5432/app' },
  targets: { disk: createStorage({ local: { root: '/tmp/backup-options-test' } }) },
  key: newKey(),
});

describe('createBackup options', () => {
  it.each([
    ['a URL that is not postgres', { database: { url: 'mysql://x/y' } }],
    ['a URL without a database', { database: { url: 'postgres://127.0.0.1:5432/' } }],
    ['no targets', { targets: {} }],
    ['a target name with a slash', { targets: { 'a/b': base().targets.disk! } }],
    ['a target that is no storage', { targets: { disk: {} as never } }],
    ['a compression level out of range', { compressionLevel: 12 }],
    ['an unknown compression', { compression: 'brotli' as never }],
    ['a retention for no target', { retention: { nowhere: { keepLast: 1 } } }],
    ['a timeout without a unit', { timeout: '60' as never }],
    ['an empty key list', { key: [] }],
    ['alerts without alert()', { alerts: {} as never }],
  ])('refuses %s with ERR_BACKUP_INVALID_OPTION', (_name, patch) => {
    expect(() => createBackup({ ...base(), ...patch })).toThrow(
      expect.objectContaining({ code: 'ERR_BACKUP_INVALID_OPTION' }),
    );
  });

  it('never echoes the password or the key in an option error', () => {
    const key = newKey();
    try {
      createBackup({ ...base(), key, targets: {} });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(key);
      expect((err as Error).message).not.toContain('pw@');
    }
  });

  it('zstd works where Node has it, and says which Node it needs where it does not', async () => {
    if (!zstdAvailable()) {
      expect(() => createBackup({ ...base(), compression: 'zstd' })).toThrow(
        expect.objectContaining({
          code: 'ERR_BACKUP_UNSUPPORTED',
          message: expect.stringContaining('22.15'),
        }),
      );
      return;
    }
    expect(createBackup({ ...base(), compression: 'zstd' }).targets).toEqual(['disk']);
  });

  it.each(['gzip', 'zstd', 'none'] as const)('%s compresses and decompresses back', async (c) => {
    if (c === 'zstd' && !zstdAvailable()) return;
    const data = Buffer.from('COPY t FROM stdin;\n'.repeat(10_000));
    const out: Buffer[] = [];
    await pipeline(
      Readable.from([data]),
      compressor(c, 3),
      decompressor(c),
      async (src: AsyncIterable<Buffer>) => {
        for await (const b of src) out.push(b);
      },
    );
    expect(Buffer.concat(out).equals(data)).toBe(true);
  });

  it('run refuses an unknown target and a malformed tag before connecting', async () => {
    const backup = createBackup(base());
    await expect(backup.run({ targets: ['elsewhere'] })).rejects.toMatchObject({
      code: 'ERR_BACKUP_INVALID_OPTION',
    });
    await expect(backup.run({ tag: 'no spaces please' })).rejects.toMatchObject({
      code: 'ERR_BACKUP_INVALID_OPTION',
    });
    await expect(
      backup.restore('not-an-id', { to: 'postgres://127.0.0.1/x' }),
    ).rejects.toMatchObject({ code: 'ERR_BACKUP_INVALID_OPTION' });
    await expect(backup.restore('latest', { to: 'nope' })).rejects.toMatchObject({
      code: 'ERR_BACKUP_INVALID_OPTION',
    });
  });
});
