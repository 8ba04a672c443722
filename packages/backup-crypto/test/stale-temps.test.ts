import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptFile, encryptFile, generateKey } from '@org/backup-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';

const HOUR = 3600_000;
const ago = (ms: number) => new Date(Date.now() - ms);

/** Runs the fixture that hangs mid-write, and SIGKILLs it once its temp file has bytes. */
function killMidWrite(dst: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures/killed-decrypt.ts'), dst],
      { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('writing')) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`the fixture exited by itself (${signal ?? _code})`));
    });
  });
}

describe('stale temporary files of a hard-killed run', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'backup-crypto-stale-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('the next decryptFile into the same place removes its own stale temp files, and only those', async () => {
    const key = generateKey();
    const src = join(dir, 'db.sql.fernet');
    const dst = join(dir, 'db.sql');
    await writeFile(join(dir, 'plain.sql'), 'select 1;\n');
    await encryptFile(join(dir, 'plain.sql'), src, key);

    await killMidWrite(dst);
    const left = (await readdir(dir)).filter((f) => f.startsWith('.db.sql.') && f.endsWith('.tmp'));
    expect(left).toHaveLength(1); // the crash left plaintext behind
    const stale = join(dir, left[0]!);
    await utimes(stale, ago(2 * HOUR), ago(2 * HOUR));
    // A temp file of a run still going (fresh), and files that are not ours, stay.
    const fresh = join(dir, '.db.sql.0123456789ab.tmp');
    await writeFile(fresh, 'another run, still writing');
    const notOurs = [
      join(dir, '.db.sql.swp'),
      join(dir, '.other.0123456789ab.tmp'),
      join(dir, 'x.tmp'),
    ];
    for (const f of notOurs) {
      await writeFile(f, 'x');
      await utimes(f, ago(3 * HOUR), ago(3 * HOUR));
    }

    await decryptFile(src, dst, key);
    const after = await readdir(dir);
    expect(after).not.toContain(left[0]);
    expect(after).toContain('.db.sql.0123456789ab.tmp');
    for (const f of notOurs) expect((await stat(f)).isFile()).toBe(true);
  }, 60_000);

  it('the CLI removes its own stale scratch directories (plaintext spooled for stdout)', async () => {
    const key = generateKey();
    const src = join(dir, 'cli.fernet');
    await writeFile(join(dir, 'cli.txt'), 'hello\n');
    await encryptFile(join(dir, 'cli.txt'), src, key);
    const stale = join(
      tmpdir(),
      `backup-crypto-${Math.random().toString(36).slice(2, 8).padEnd(6, 'x')}`,
    );
    await mkdir(stale);
    await writeFile(join(stale, 'plain'), 'plaintext of a killed run');
    await utimes(join(stale, 'plain'), ago(2 * HOUR), ago(2 * HOUR));
    await utimes(stale, ago(2 * HOUR), ago(2 * HOUR));
    const fresh = await mkdtemp(join(tmpdir(), 'backup-crypto-'));
    try {
      const r = await cli(['decrypt', src, '-'], { env: { BACKUP_ENCRYPTION_KEY: key } });
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe('hello\n');
      await expect(stat(stale)).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await stat(fresh)).isDirectory()).toBe(true);
    } finally {
      await rm(stale, { recursive: true, force: true });
      await rm(fresh, { recursive: true, force: true });
    }
  }, 60_000);
});
